/* SPDX-License-Identifier: MIT */
/* relaywatch check NAME|IP: how the intelligence, the country table and a
 * policy classify a destination. No root, no kernel. */
#ifndef RW_CHECK_H
#define RW_CHECK_H

int cmd_check(int argc, char **argv);

#endif

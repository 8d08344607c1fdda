// SPDX-License-Identifier: MIT
#include "log.h"

int log_level = LOG_WARN;

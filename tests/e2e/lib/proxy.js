#!/usr/bin/env node
// Loopback-only servers and tools for the end-to-end tests (node's standard
// library only; node 18 or later). Every server writes JSON lines to standard
// output: {"ev":"listening",...} once it accepts, then one line per request.
//
//   proxy.js connect PORT [NAME=ADDR ...]   HTTP proxy on 127.0.0.1:PORT:
//                                           CONNECT tunnels, absolute-form GET
//   proxy.js socks5 PORT [NAME=ADDR ...]    SOCKS5 (and SOCKS4/4a) proxy on 127.0.0.1:PORT (no
//                                           auth; CONNECT; ATYP domain/v4/v6)
//   proxy.js http IP PORT                   answers 200 "http-ok IP PORT\n"
//   proxy.js https IP PORT CERT KEY NAME    answers 200 "tls-ok NAME\n"
//   proxy.js dnsq SERVER NAME [TYPE]        one UDP query to SERVER:53; prints
//                                           "rcode R" then "TYPE DATA TTL" lines
//   proxy.js watch OWNER PIDFILE DIR        when process OWNER is gone, stops
//                                           every "PID STARTTIME" of PIDFILE
//                                           and removes DIR
//
// The proxies never use DNS: a target name is looked up only in the NAME=ADDR
// map given on the command line (an unknown name is refused), and a target
// address that is not loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) is
// refused. PROXY_LISTEN overrides the listening address (default 127.0.0.1).
'use strict';

const net = require('net');
const fs = require('fs');
const dgram = require('dgram');

function log(obj) {
	obj.t = new Date().toISOString();
	process.stdout.write(JSON.stringify(obj) + '\n');
}

function die(msg) {
	process.stderr.write('proxy.js: ' + msg + '\n');
	process.exit(2);
}

// --- addresses ---------------------------------------------------------

function ip6bytes(s) {
	s = s.toLowerCase().replace(/%.*$/, '');
	let tail = [];
	const v4 = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
	if (v4) {
		tail = v4[2].split('.').map(Number);
		s = v4[1] + '0:0';
	}
	const halves = s.split('::');
	if (halves.length > 2) return null;
	const part = (h) => (h === '' ? [] : h.split(':'));
	const a = part(halves[0]);
	const b = halves.length === 2 ? part(halves[1]) : [];
	const fill = 8 - a.length - b.length;
	if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
	const groups = a.concat(Array(halves.length === 2 ? fill : 0).fill('0'), b);
	const out = [];
	for (const g of groups) {
		if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
		const v = parseInt(g, 16);
		out.push(v >> 8, v & 255);
	}
	if (v4) out.splice(12, 4, ...tail);
	return out;
}

function isLoopback(ip) {
	if (net.isIPv4(ip)) return Number(ip.split('.')[0]) === 127;
	if (!net.isIPv6(ip)) return false;
	const b = ip6bytes(ip);
	if (!b) return false;
	if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return true;
	const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 255 && b[11] === 255;
	return mapped && b[12] === 127;
}

function parseMap(args) {
	const map = new Map();
	for (const a of args) {
		const i = a.indexOf('=');
		if (i <= 0) die('bad map entry ' + JSON.stringify(a) + ' (want NAME=ADDR)');
		const name = normName(a.slice(0, i));
		const addr = a.slice(i + 1).replace(/^\[|\]$/g, '');
		if (!net.isIP(addr)) die('not an address in ' + JSON.stringify(a));
		if (!map.has(name)) map.set(name, addr); // the first entry wins
	}
	return map;
}

function normName(n) {
	return n.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

// -> {addr} or {error: 'unknown'|'refused'}
function resolveTarget(map, host) {
	const h = normName(host);
	const addr = net.isIP(h) ? h : map.get(h);
	if (!addr) return { error: 'unknown' };
	if (!isLoopback(addr)) return { addr, error: 'refused' };
	return { addr };
}

function tunnel(a, b) {
	a.on('error', () => b.destroy());
	b.on('error', () => a.destroy());
	a.on('close', () => b.destroy());
	b.on('close', () => a.destroy());
	a.pipe(b);
	b.pipe(a);
}

function listenLoopback(server, port, extra) {
	const host = process.env.PROXY_LISTEN || '127.0.0.1';
	if (!isLoopback(host)) die('refusing to listen on ' + host + ' (not loopback)');
	server.on('error', (e) => die('listen ' + host + ':' + port + ': ' + e.message));
	server.listen(port, host, () => log(Object.assign({ ev: 'listening', host, port }, extra)));
}

// --- HTTP proxy --------------------------------------------------------

function httpError(sock, code, text, why) {
	const body = why + '\n';
	sock.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain\r\n` +
		`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function splitHostPort(s, defport) {
	let m = s.match(/^\[([^\]]+)\](?::(\d+))?$/) || s.match(/^([^:]+)(?::(\d+))?$/);
	if (!m) return null;
	const port = m[2] === undefined ? defport : Number(m[2]);
	if (!(port > 0 && port < 65536)) return null;
	return { host: m[1], port };
}

function connectProxy(port, map) {
	const server = net.createServer((sock) => {
		let buf = Buffer.alloc(0);
		sock.on('error', () => {});
		const onData = (chunk) => {
			buf = Buffer.concat([buf, chunk]);
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0) {
				if (buf.length > 65536) sock.destroy();
				return;
			}
			sock.removeListener('data', onData);
			sock.pause();
			const head = buf.slice(0, end).toString('latin1');
			const rest = buf.slice(end + 4);
			const lines = head.split('\r\n');
			const [method, target, version] = lines[0].split(' ');
			const rec = { ev: 'request', proto: 'http', method, target, client: sock.remoteAddress + ':' + sock.remotePort };
			let hp, path = null;
			if (method === 'CONNECT') {
				hp = target && splitHostPort(target, 443);
			} else {
				const m = target && target.match(/^http:\/\/([^/?#]+)([^#]*)$/i);
				hp = m && splitHostPort(m[1], 80);
				if (m) path = m[2] || '/';
			}
			if (!hp || !version) {
				log(Object.assign(rec, { result: 'bad-request' }));
				return httpError(sock, 400, 'Bad Request', 'bad request');
			}
			const r = resolveTarget(map, hp.host);
			Object.assign(rec, { host: hp.host, port: hp.port, addr: r.addr || null });
			if (r.error === 'unknown') {
				log(Object.assign(rec, { result: 'unknown-name' }));
				return httpError(sock, 502, 'Bad Gateway', 'unknown name ' + hp.host + ' (not in the map; no DNS)');
			}
			if (r.error) {
				log(Object.assign(rec, { result: 'refused' }));
				return httpError(sock, 403, 'Forbidden', 'refused: ' + r.addr + ' is not loopback');
			}
			const up = net.connect({ host: r.addr, port: hp.port });
			up.once('error', (e) => {
				log(Object.assign(rec, { result: 'error', error: e.code || e.message }));
				httpError(sock, 502, 'Bad Gateway', 'connect ' + r.addr + ':' + hp.port + ': ' + (e.code || e.message));
			});
			up.once('connect', () => {
				log(Object.assign(rec, { result: 'ok' }));
				if (method === 'CONNECT') {
					sock.write('HTTP/1.1 200 Connection established\r\n\r\n');
				} else {
					const hdrs = lines.slice(1).filter((l) => !/^(proxy-connection|proxy-authorization|connection|keep-alive):/i.test(l));
					up.write([`${method} ${path} ${version}`, ...hdrs, 'Connection: close', '', ''].join('\r\n'), 'latin1');
				}
				if (rest.length) up.write(rest);
				tunnel(sock, up);
				sock.resume();
			});
		};
		sock.on('data', onData);
	});
	listenLoopback(server, port, { proto: 'http' });
}

// --- SOCKS5 proxy ------------------------------------------------------

function socksReply(rep, addr, port) {
	let a;
	if (addr && net.isIPv6(addr)) a = Buffer.from([4, ...ip6bytes(addr)]);
	else a = Buffer.from([1, ...(addr && net.isIPv4(addr) ? addr.split('.').map(Number) : [0, 0, 0, 0])]);
	const p = Buffer.from([(port >> 8) & 255, port & 255]);
	return Buffer.concat([Buffer.from([5, rep, 0]), a, p]);
}

function socks5Proxy(port, map) {
	const server = net.createServer((sock) => {
		let buf = Buffer.alloc(0);
		let stage = 'greet';
		sock.on('error', () => {});
		const client = sock.remoteAddress + ':' + sock.remotePort;
		const fail = (rec, rep, result) => {
			log(Object.assign(rec, { result }));
			sock.end(socksReply(rep, null, 0));
			stage = 'done';
		};
		const onData = (chunk) => {
			buf = Buffer.concat([buf, chunk]);
			if (buf.length > 4096 && stage !== 'connecting') return sock.destroy();
			if (stage === 'greet' && buf.length && buf[0] === 4) {
				// SOCKS4 / SOCKS4a: "04 cmd port ip userid\0 [host\0]"
				const z = buf.indexOf(0, 8);
				if (buf.length < 9 || z < 0) return;
				let host = [...buf.slice(4, 8)].join('.'), end = z + 1;
				const is4a = buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0;
				if (is4a) {
					const z2 = buf.indexOf(0, end);
					if (z2 < 0) return;
					host = buf.slice(end, z2).toString('latin1');
					end = z2 + 1;
				}
				const dport = buf.readUInt16BE(2), cmd = buf[1];
				buf = buf.slice(end);
				const rec = { ev: 'request', proto: is4a ? 'socks4a' : 'socks4', client, cmd, host, port: dport };
				const no = () => { stage = 'done'; sock.end(Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0])); };
				if (cmd !== 1) { log(Object.assign(rec, { result: 'bad-command' })); return no(); }
				const r = resolveTarget(map, host);
				rec.addr = r.addr || null;
				if (r.error) { log(Object.assign(rec, { result: r.error === 'unknown' ? 'unknown-name' : 'refused' })); return no(); }
				stage = 'connecting';
				const up = net.connect({ host: r.addr, port: dport });
				up.once('error', (e) => {
					log(Object.assign(rec, { result: 'error', error: e.code || e.message }));
					no();
				});
				up.once('connect', () => {
					log(Object.assign(rec, { result: 'ok' }));
					sock.removeListener('data', onData);
					sock.write(Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]));
					if (buf.length) up.write(buf);
					tunnel(sock, up);
				});
				return;
			}
			if (stage === 'greet') {
				if (buf.length < 2) return;
				if (buf[0] !== 5) { log({ ev: 'request', proto: 'socks5', client, result: 'bad-version', version: buf[0] }); return sock.destroy(); }
				const n = buf[1];
				if (buf.length < 2 + n) return;
				const methods = [...buf.slice(2, 2 + n)];
				buf = buf.slice(2 + n);
				if (!methods.includes(0)) {
					log({ ev: 'request', proto: 'socks5', client, result: 'no-acceptable-auth', methods });
					stage = 'done';
					return sock.end(Buffer.from([5, 0xff]));
				}
				sock.write(Buffer.from([5, 0]));
				stage = 'request';
			}
			if (stage === 'request') {
				if (buf.length < 5) return;
				const [ver, cmd, , atyp] = buf;
				let host, off;
				if (atyp === 1) {
					if (buf.length < 10) return;
					host = [...buf.slice(4, 8)].join('.');
					off = 8;
				} else if (atyp === 3) {
					const len = buf[4];
					if (buf.length < 5 + len + 2) return;
					host = buf.slice(5, 5 + len).toString('latin1');
					off = 5 + len;
				} else if (atyp === 4) {
					if (buf.length < 22) return;
					host = ipv6str(buf.slice(4, 20));
					off = 20;
				} else {
					return fail({ ev: 'request', proto: 'socks5', client, atyp }, 8, 'bad-atyp');
				}
				const dport = buf.readUInt16BE(off);
				buf = buf.slice(off + 2);
				const atypName = { 1: 'ipv4', 3: 'domain', 4: 'ipv6' }[atyp];
				const rec = { ev: 'request', proto: 'socks5', client, cmd, atyp: atypName, host, port: dport };
				if (ver !== 5) return fail(rec, 1, 'bad-version');
				if (cmd !== 1) return fail(rec, 7, 'bad-command');
				const r = resolveTarget(map, host);
				rec.addr = r.addr || null;
				if (r.error === 'unknown') return fail(rec, 4, 'unknown-name');
				if (r.error) return fail(rec, 2, 'refused');
				stage = 'connecting';
				const up = net.connect({ host: r.addr, port: dport });
				up.once('error', (e) => {
					log(Object.assign(rec, { result: 'error', error: e.code || e.message }));
					sock.end(socksReply(e.code === 'ECONNREFUSED' ? 5 : 1, null, 0));
				});
				up.once('connect', () => {
					log(Object.assign(rec, { result: 'ok' }));
					sock.removeListener('data', onData);
					sock.write(socksReply(0, up.localAddress, up.localPort));
					if (buf.length) up.write(buf);
					tunnel(sock, up);
				});
			}
		};
		sock.on('data', onData);
	});
	listenLoopback(server, port, { proto: 'socks5' });
}

// --- HTTP(S) servers ---------------------------------------------------

function webServer(kind, ip, port, opts) {
	if (!isLoopback(ip)) die('refusing to listen on ' + ip + ' (not loopback)');
	const body = kind === 'https' ? `tls-ok ${opts.name}\n` : `http-ok ${ip} ${port}\n`;
	const handler = (req, res) => {
		log({
			ev: 'request', proto: kind, method: req.method, url: req.url, host: req.headers.host || null,
			sni: kind === 'https' ? req.socket.servername || null : undefined,
			client: req.socket.remoteAddress + ':' + req.socket.remotePort,
		});
		res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
		res.end(req.method === 'HEAD' ? undefined : body);
	};
	const server = kind === 'https'
		? require('https').createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) }, handler)
		: require('http').createServer(handler);
	server.on('tlsClientError', (e, s) => log({ ev: 'tls-error', error: e.code || e.message, client: s.remoteAddress }));
	server.on('error', (e) => die('listen ' + ip + ':' + port + ': ' + e.message));
	server.listen(port, ip, () => log({ ev: 'listening', proto: kind, host: ip, port, body: body.trim() }));
}

// --- DNS query ---------------------------------------------------------

const RRTYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, ANY: 255 };
const RRNAMES = Object.fromEntries(Object.entries(RRTYPES).map(([k, v]) => [v, k]));

function readName(msg, off) {
	const labels = [];
	let jumped = false, end = off, hops = 0;
	for (;;) {
		if (off >= msg.length || ++hops > 128) throw new Error('bad name');
		const len = msg[off];
		if ((len & 0xc0) === 0xc0) {
			if (!jumped) end = off + 2;
			off = ((len & 0x3f) << 8) | msg[off + 1];
			jumped = true;
			continue;
		}
		if (len === 0) { if (!jumped) end = off + 1; break; }
		labels.push(msg.slice(off + 1, off + 1 + len).toString('latin1'));
		off += 1 + len;
	}
	return [labels.join('.'), end];
}

function dnsQuery(server, name, type) {
	if (!isLoopback(server)) die('refusing to query ' + server + ' (not loopback)');
	const qtype = RRTYPES[type.toUpperCase()];
	if (!qtype) die('unknown type ' + type);
	const id = Math.floor(Math.random() * 65536);
	const q = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
	for (const l of normName(name).split('.')) q.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
	q.push(Buffer.from([0, qtype >> 8, qtype & 255, 0, 1]));
	const sock = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
	const timer = setTimeout(() => { process.stderr.write('proxy.js: no answer from ' + server + '\n'); process.exit(1); },
		Number(process.env.DNSQ_TIMEOUT_MS || 1000));
	sock.on('message', (msg) => {
		if (msg.readUInt16BE(0) !== id) return;
		clearTimeout(timer);
		const rcode = msg[3] & 15;
		const out = ['rcode ' + rcode];
		let off = 12;
		for (let i = msg.readUInt16BE(4); i > 0; i--) off = readName(msg, off)[1] + 4;
		for (let i = msg.readUInt16BE(6); i > 0; i--) {
			const [, o] = readName(msg, off);
			const t = msg.readUInt16BE(o), ttl = msg.readUInt32BE(o + 4), len = msg.readUInt16BE(o + 8);
			const d = msg.slice(o + 10, o + 10 + len);
			let data;
			if (t === 1) data = [...d].join('.');
			else if (t === 28) data = ipv6str(d);
			else if (t === 5 || t === 2 || t === 12) data = readName(msg, o + 10)[0];
			else data = d.toString('hex');
			out.push(`${RRNAMES[t] || t} ${data} ${ttl}`);
			off = o + 10 + len;
		}
		process.stdout.write(out.join('\n') + '\n');
		sock.close();
	});
	sock.send(Buffer.concat(q), 53, server, (e) => { if (e) die('send: ' + e.message); });
}

function ipv6str(d) {
	const g = [];
	for (let i = 0; i < 16; i += 2) g.push(d.readUInt16BE(i).toString(16));
	// compress the longest run of zero groups
	let best = -1, bestLen = 1;
	for (let i = 0; i < 8; i++) {
		let j = i;
		while (j < 8 && g[j] === '0') j++;
		if (j - i > bestLen) { best = i; bestLen = j - i; }
	}
	if (best < 0) return g.join(':');
	return (g.slice(0, best).join(':') + '::' + g.slice(best + bestLen).join(':'));
}

// --- watchdog ----------------------------------------------------------

function alive(pid) {
	try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

function startTime(pid) {
	try {
		const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
		return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
	} catch (e) { return null; }
}

function watch(owner, pidfile, dir) {
	const ownerStart = startTime(owner);
	const tick = () => {
		if (!fs.existsSync(dir)) process.exit(0); // cleaned up normally
		if (alive(owner) && startTime(owner) === ownerStart) return;
		let ours = [];
		try {
			ours = fs.readFileSync(pidfile, 'latin1').split('\n').map((l) => l.split(' '))
				.filter(([p, st]) => p && Number(p) !== process.pid && startTime(p) === st).map(([p]) => Number(p));
		} catch (e) { /* no pid file */ }
		for (const p of ours) try { process.kill(p, 'SIGTERM'); } catch (e) { /* gone */ }
		setTimeout(() => {
			for (const p of ours) try { if (alive(p)) process.kill(p, 'SIGKILL'); } catch (e) { /* gone */ }
			fs.rmSync(dir, { recursive: true, force: true });
			process.exit(0);
		}, 1000);
		clearInterval(iv);
	};
	const iv = setInterval(tick, 500);
	tick();
}

// --- main --------------------------------------------------------------

const [mode, ...args] = process.argv.slice(2);
const portArg = (s) => {
	const p = Number(s);
	if (!(Number.isInteger(p) && p > 0 && p < 65536)) die('bad port ' + JSON.stringify(s));
	return p;
};
switch (mode) {
case 'connect': connectProxy(portArg(args[0]), parseMap(args.slice(1))); break;
case 'socks5': socks5Proxy(portArg(args[0]), parseMap(args.slice(1))); break;
case 'http': webServer('http', args[0], portArg(args[1]), {}); break;
case 'https':
	if (args.length < 5) die('usage: https IP PORT CERT KEY NAME');
	webServer('https', args[0], portArg(args[1]), { cert: args[2], key: args[3], name: args[4] });
	break;
case 'dnsq':
	if (args.length < 2) die('usage: dnsq SERVER NAME [TYPE]');
	dnsQuery(args[0], args[1], args[2] || 'A');
	break;
case 'watch': watch(Number(args[0]), args[1], args[2]); break;
default: die('usage: proxy.js connect|socks5|http|https|dnsq|watch ...');
}

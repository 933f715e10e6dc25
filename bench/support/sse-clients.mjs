// SSE clients for bench/cases/http.ts, in a process of their own so that reading 50 streams does
// not slow the bench's publisher. argv: URL COUNT. Commands on stdin, one a line:
//   reset    forget the lags measured so far
//   report   print one JSON line: per client, its lag p99 (ms), events read and events lost
// Each client works on the bytes: it counts frames, reads the receive time of the newest event
// of each chunk (lag = now - then), and adds up the loss notices.
import http from 'node:http';
import readline from 'node:readline';

const [url, countText] = process.argv.slice(2);
const idMark = Buffer.from('\nid: ');
const timeMark = Buffer.from('"receivedAt":"');
const lossMark = Buffer.from('event: loss');
const clients = [];

for (let k = 0; k < Number(countText); k++) {
	const c = {lags: [], events: 0, lost: 0};
	clients.push(c);
	http.get(url, {agent: false}, res => {
		res.on('data', d => {
			for (let i = d.indexOf(idMark); i >= 0; i = d.indexOf(idMark, i + 1)) {
				c.events++;
			}

			const at = d.lastIndexOf(timeMark);
			if (at >= 0 && at + 38 <= d.length) {
				c.lags.push(Date.now() - Date.parse(d.toString('latin1', at + 14, at + 38)));
			}

			for (let j = d.indexOf(lossMark); j >= 0; j = d.indexOf(lossMark, j + 1)) {
				const m = /"lost":(\d+)/.exec(d.toString('latin1', j, j + 100));
				c.lost += Number(m?.[1] ?? 0);
			}
		});
	}).on('error', error => {
		process.stderr.write(`sse client: ${error.message}\n`);
	});
}

readline.createInterface({input: process.stdin}).on('line', line => {
	if (line === 'reset') {
		for (const c of clients) {
			c.lags = [];
		}
	} else if (line === 'report') {
		const out = clients.map(c => {
			const sorted = [...c.lags].sort((a, b) => a - b);
			return {p99: sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], events: c.events, lost: c.lost};
		});
		process.stdout.write(`${JSON.stringify(out)}\n`);
	}
});

// SSE clients for bench/cases/http.ts, in processes of their own so that reading 50 streams does
// not slow the bench's publisher. argv: URL COUNT. Commands on stdin, one a line:
//   reset    forget the lags measured so far
//   report   print one JSON line: per client, its lag p99 (ms) and the newest seq read
// Each client reads the bytes as they come and looks only at the last event id of each chunk
// (`id: <receivedAt ms>-<seq>`): lag = now - receivedAt. Losses are logmon's own count (/health).
import http from 'node:http';
import readline from 'node:readline';

const [url, countText] = process.argv.slice(2);
const idMark = Buffer.from('\nid: ');
const clients = [];

for (let k = 0; k < Number(countText); k++) {
	const c = {lags: [], seq: 0};
	clients.push(c);
	http.get(url, {agent: false}, res => {
		res.on('data', d => {
			const at = d.lastIndexOf(idMark);
			const end = at < 0 ? -1 : d.indexOf(10, at + 5);
			if (end > 0) {
				const [received, seq] = d.toString('latin1', at + 5, end).split('-');
				c.lags.push(Date.now() - Number(received));
				c.seq = Number(seq);
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
			return {p99: sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], seq: c.seq};
		});
		process.stdout.write(`${JSON.stringify(out)}\n`);
	}
});

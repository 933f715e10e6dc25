import net from 'node:net';
import {corpusLines} from './measure.js';

// A paced logio publisher in a process of its own, so the load it sends does not share an event
// loop with the client that measures: `node --import tsx bench/support/logio-feed.ts PORT RATE`.
// Sends real log lines at RATE a second in 10 ms ticks until SIGTERM, then prints the count sent.

const [port, rate] = process.argv.slice(2).map(Number);
const lines = corpusLines();
const tick = 10;
const socket = net.connect(port!, '127.0.0.1');
socket.on('error', error => {
	console.error(`feed: ${error.message}`);
	process.exit(1);
});
socket.write(JSON.stringify({app: 'feed', proc: 'web', host: 'bench'}));
let sent = 0;
const started = performance.now();
const timer = setInterval(() => {
	// Catch up to where the clock says we should be: a late tick sends more.
	const due = Math.floor(((performance.now() - started) / 1000) * rate!);
	const parts: string[] = [];
	while (sent < due) {
		parts.push(JSON.stringify({time: new Date().toISOString(), raw: lines[sent % lines.length]! + '\n'}));
		sent++;
	}

	if (parts.length > 0) {
		socket.write(parts.join(''));
	}
}, tick);
process.once('SIGTERM', () => {
	clearInterval(timer);
	socket.end(() => {
		process.stdout.write(`${sent}\n`);
		process.exit(0);
	});
});

// A steady writer that rotates its log: `node rotating-writer.mjs FILE MODE LINES ROTATIONS`.
// MODE rename: close, rename FILE to FILE.N, create FILE again (logrotate's default).
// MODE copytruncate: copy FILE to FILE.N, truncate FILE; the descriptor (O_APPEND) writes on at 0.
// Lines are `line NNNNNN …`, numbered from 0; it prints `done` once the last is written.
import {closeSync, copyFileSync, ftruncateSync, openSync, renameSync, writeSync} from 'node:fs';

const [file, mode, linesArg, rotationsArg] = process.argv.slice(2);
const total = Number(linesArg);
const rotations = Number(rotationsArg);
const every = Math.floor(total / (rotations + 1));
let fd = openSync(file, 'a');
let n = 0;
let rotated = 0;
const pause = async ms => new Promise(resolve => setTimeout(resolve, ms));

function rotate() {
	rotated++;
	if (mode === 'rename') {
		closeSync(fd);
		renameSync(file, `${file}.${rotated}`);
		fd = openSync(file, 'a');
	} else {
		copyFileSync(file, `${file}.${rotated}`);
		ftruncateSync(fd, 0);
	}
}

while (n < total) {
	for (let i = 0; i < 25 && n < total; i++) {
		writeSync(fd, `line ${String(n).padStart(6, '0')} from a steady writer\n`);
		n++;
		if (n % every === 0 && rotated < rotations) {
			rotate();
			// A rotation a day is the usual pace; this gives the follower a moment to see each one.
			await pause(120); // eslint-disable-line no-await-in-loop
		}
	}

	await pause(3); // eslint-disable-line no-await-in-loop
}

closeSync(fd);
process.stdout.write(`done ${rotated}\n`);

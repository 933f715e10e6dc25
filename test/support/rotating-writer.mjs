// A steady writer that rotates its log: `node rotating-writer.mjs FILE MODE LINES ROTATIONS`.
// MODE rename: close, rename FILE to FILE.N, create FILE again (logrotate's default).
// MODE copytruncate: copy FILE to FILE.N, truncate FILE; the descriptor (O_APPEND) writes on at 0.
// MODE slowcopy: the same, the copy written 4 KiB at a time while the writer waits (logrotate on a large file).
// Lines are `line NNNNNN …`, numbered from 0; it prints `done` once the last is written.
import {closeSync, copyFileSync, ftruncateSync, openSync, readSync, renameSync, writeSync} from 'node:fs';

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

/** logrotate's copytruncate of a large file: the copy is written a piece at a time, found while it grows. */
async function rotateBySlowCopy() {
	rotated++;
	const from = openSync(file, 'r');
	const to = openSync(`${file}.${rotated}`, 'wx');
	const piece = Buffer.alloc(4096);
	for (let at = 0; ;) {
		const n = readSync(from, piece, 0, piece.length, at);
		if (n === 0) {
			break;
		}

		writeSync(to, piece, 0, n);
		at += n;
		await pause(5); // eslint-disable-line no-await-in-loop
	}

	closeSync(from);
	closeSync(to);
	ftruncateSync(fd, 0);
}

while (n < total) {
	for (let i = 0; i < 25 && n < total; i++) {
		writeSync(fd, `line ${String(n).padStart(6, '0')} from a steady writer\n`);
		n++;
		if (n % every === 0 && rotated < rotations) {
			if (mode === 'slowcopy') {
				await rotateBySlowCopy(); // eslint-disable-line no-await-in-loop
			} else {
				rotate();
			}

			// A rotation a day is the usual pace; this gives the follower a moment to see each one.
			await pause(120); // eslint-disable-line no-await-in-loop
		}
	}

	await pause(3); // eslint-disable-line no-await-in-loop
}

closeSync(fd);
process.stdout.write(`done ${rotated}\n`);

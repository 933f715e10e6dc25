// The least a Node.js follower of a file does, as a yardstick for the files bench: no events, no
// levels, no redaction, no escapes made safe. On each change event it reads what was appended as
// logmon does on a local filesystem (32 KiB synchronous reads, a turn of the event loop before each),
// cuts it into lines as strings and writes them back joined. What logmon adds to each line is
// measured against this, and this against tail -F.
import {closeSync, fstatSync, openSync, readSync, watch} from 'node:fs';
import {StringDecoder} from 'node:string_decoder';

const file = process.argv[2];
const fd = openSync(file, 'r');
let position = fstatSync(fd).size;
let rest = '';
const decoder = new StringDecoder('utf8');
let reading = false;

async function readAppended() {
	if (reading) {
		return;
	}

	reading = true;
	const buf = Buffer.allocUnsafe(32 * 1024);
	for (;;) {
		await new Promise(resolve => { // eslint-disable-line no-await-in-loop
			setImmediate(resolve);
		});
		const n = readSync(fd, buf, 0, buf.length, position);
		if (n === 0) {
			break;
		}

		position += n;
		const lines = (rest + decoder.write(buf.subarray(0, n))).split('\n');
		rest = lines.pop();
		if (lines.length > 0 && !process.stdout.write(lines.join('\n') + '\n')) {
			await new Promise(resolve => { // eslint-disable-line no-await-in-loop
				process.stdout.once('drain', resolve);
			});
		}
	}

	reading = false;
	if (fstatSync(fd).size > position) {
		void readAppended();
	}
}

watch(file, () => {
	void readAppended();
});
process.on('SIGTERM', () => {
	closeSync(fd);
	process.exit(0);
});

import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';
import {expect, test} from 'vitest';
import measureText from '../../node_modules/ink/build/measure-text.js';
import wrapText from '../../node_modules/ink/build/wrap-text.js';

// Ink caches the size and the wrapping of every text it lays out, and kept them all: a live log view
// shows new text in every frame, so the UI's memory grew for as long as it ran (about 160 MB an hour
// in the demo). patches/ink+6.8.0.patch (applied by `npm ci`) bounds both caches.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('Ink\'s caches of measured and wrapped text stay bounded (patches/ink+6.8.0.patch)', () => {
	gc();
	const before = process.memoryUsage().heapUsed;
	for (let i = 0; i < 6000; i++) {
		const text = `${i} `.padEnd(10_000, 'x');
		measureText(text);
		// `end` keeps the text as it is (no truncation to pay for here), and caches it all the same.
		wrapText(text, 80, 'end');
	}

	gc();
	// Kept whole, the 6,000 distinct texts of 10,000 characters would hold some 120 MB in the two caches.
	expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
});

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {LiteralFinder} from '../../source/history/literal-finder.js';
import {corpus} from '../support/logmon.js';

// The finder looks for a piece of the literal that begins with its rarest byte, then checks the
// whole literal: it must find exactly what Buffer#indexOf finds, wherever the literal stands.

/** Every place of `needle` in `text`, by Buffer#indexOf, overlapping ones included. */
function everyPlace(text: Buffer, needle: Buffer): number[] {
	const out: number[] = [];
	for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
		out.push(at);
	}

	return out;
}

function found(finder: LiteralFinder, text: Buffer): number[] {
	const out: number[] = [];
	for (let at = finder.indexOf(text); at >= 0; at = finder.indexOf(text, at + 1)) {
		out.push(at);
	}

	return out;
}

describe('LiteralFinder', () => {
	const text = Buffer.concat(['OpenSSH_2k.log', 'Linux_2k.log', 'Apache_2k.log'].map(f => readFileSync(path.join(corpus, f))));
	const literals = [' for user ', 'session ', 'Failed password', 'sshd', 'e', 'z', 'rhost=', '"service":"linux",', 'authentication failure;', 'Dec 10 ', 'no such literal here', 'aa', '\n', '..'];
	for (const literal of literals) {
		test(JSON.stringify(literal), () => {
			const needle = Buffer.from(literal);
			expect(found(new LiteralFinder(needle), text)).toEqual(everyPlace(text, needle));
		});
	}

	test('tuned on one text, it still finds every place in another', () => {
		const needle = Buffer.from(' for user ');
		const finder = new LiteralFinder(needle);
		finder.indexOf(Buffer.from('ffffffff oooooo rrrrr uuuu ssss eeee')); // tunes on this
		expect(found(finder, text)).toEqual(everyPlace(text, needle));
	});

	test('at the very start and the very end of a chunk, and overlapping', () => {
		const needle = Buffer.from('abab');
		const chunk = Buffer.from('ababab x abab');
		expect(found(new LiteralFinder(needle), chunk)).toEqual([0, 2, 9]);
		expect(new LiteralFinder(needle).indexOf(chunk, 10)).toBe(-1);
		expect(new LiteralFinder(Buffer.from('xyz')).indexOf(Buffer.from('xy'))).toBe(-1);
	});
});

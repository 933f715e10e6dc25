import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {describe, expect, it} from 'vitest';
import {root, until} from './support/logmon.js';

// The redaction screen's worker thread (source/redact-thread.ts), as built: the worker's file is
// found beside the built module, so this loads dist/, not the TypeScript source.

type Thread = typeof import('../source/redact-thread.js');

describe('the redaction thread', () => {
	it('answers for a batch at once, with no flags, where its texts are too long to send as one string; others it screens', async () => {
		const {redactScreen} = await import(pathToFileURL(path.join(root, 'dist', 'redact-thread.js')).href) as Thread;
		const failures: string[] = [];
		const spec = {enabled: true, key: undefined, mode: 'mask' as const, enable: [], disable: [], rules: [{name: 'order', pattern: 'tok_[a-z0-9]{8}', from: '--redact-rule'}], fields: []};
		const screen = redactScreen(spec, {LOGMON_REDACT_THREAD: '1'}, why => failures.push(why))!;
		expect(screen).toBeDefined();
		screen.offered!(20_000);
		await until(() => screen.ready, 'the worker ready');

		// 80 MiB of text in all, one string shared: nothing is joined, and the answer comes at once.
		const long = 'plain '.repeat(1 << 17);
		let tooLong: Uint8Array | undefined | null = null;
		screen.screen(Array.from({length: 110}, () => long), flags => {
			tooLong = flags;
		});
		expect(tooLong).toBeUndefined();

		let flags: Uint8Array | undefined | null = null;
		screen.screen(['password=hunter2', 'plain', 'id tok_abcd1234 sent', 'ß ünïcode \uD800 lone'], answer => {
			flags = answer;
		});
		await until(() => flags !== null, 'the worker\'s answer');
		expect([...flags!]).toEqual([1, 0, 1, 0]);
		screen.close();
		expect(failures).toEqual([]);
	});
});

import {execFileSync} from 'node:child_process';
import {copyFileSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {beforeAll, describe, expect, test} from 'vitest';
import {demoLogFiles} from '../../source/demo-logs.js';
import {distChecks, type Launcher, makeDir, scratch, skipDist} from '../support/dist.js';
import {buildExecutable} from '../support/install.js';
import {corpus} from '../support/logmon.js';

// The single executable (npm run build:exe) as users run it: the one file copied alone into an
// empty folder, run with `env -i` (no PATH, so no Node to find; HOME only).

describe.skipIf(skipDist())('the single executable, copied alone and run with an empty environment', () => {
	let launcher: Launcher;
	let built: string;

	beforeAll(() => {
		built = buildExecutable();
		const dir = scratch('exe');
		const box = makeDir(path.join(dir, 'box'));
		const command = path.join(box, 'logmon');
		copyFileSync(built, command);
		execFileSync('chmod', ['755', command]);
		launcher = {command, env: {HOME: makeDir(path.join(dir, 'home'))}, cwd: box};
	}, 600_000);

	test('one file carrying the bundle (with the patched kafkajs), the demo\'s logs and the loghub notice', () => {
		const exe = readFileSync(built);
		expect(exe.subarray(0, 4).toString('latin1')).toBe('\u007FELF');
		expect(exe.includes('readSmallVarLong')).toBe(true);
		for (const file of [demoLogFiles[0], 'LICENSE']) {
			const text = readFileSync(path.join(corpus, file), 'utf8');
			expect(exe.includes(text.slice(0, 2000))).toBe(true);
		}
	});

	distChecks(() => launcher);
});

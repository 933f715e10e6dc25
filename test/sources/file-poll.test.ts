import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {eventsArrive, pollInterval, steadyPollMs} from '../../source/sources/file-poll.js';

describe('how often followed files are checked', () => {
	const dirs = new Set(['/var/log', '/srv/app/log']);
	const local = () => true;

	test('where every directory is watched on a filesystem that sends events: the slow safety net', () => {
		expect(pollInterval({pollMs: 2000, dirs, watched: 2, pending: 0}, local)).toBe(steadyPollMs);
		// A longer interval of the user's is kept.
		expect(pollInterval({pollMs: 30_000, dirs, watched: 2, pending: 0}, local)).toBe(30_000);
	});

	test('every pollMs where events may not arrive, a directory is not watched, or a check has something to notice', () => {
		expect(pollInterval({pollMs: 2000, dirs, watched: 2, pending: 0}, dir => dir !== '/srv/app/log')).toBe(2000);
		expect(pollInterval({pollMs: 2000, dirs, watched: 1, pending: 0}, local)).toBe(2000);
		// A file rotated away and still read, or one missing or unreadable.
		expect(pollInterval({pollMs: 2000, dirs, watched: 2, pending: 1}, local)).toBe(2000);
		expect(pollInterval({pollMs: 2000, dirs: new Set(), watched: 0, pending: 0}, local)).toBe(2000);
	});

	test('the filesystem is told by its statfs type: /proc sends no events, a missing directory cannot be told', () => {
		expect(eventsArrive('/proc')).toBe(false);
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-poll-'));
		rmSync(dir, {recursive: true});
		expect(eventsArrive(dir)).toBe(false);
	});
});

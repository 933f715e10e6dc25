import {describe, expect, test} from 'vitest';
import {type HistoryStatus} from '../../source/history/types.js';
import {setup} from '../ui/harness.js';

// The history's state in the UI's status bar, next to the drops.

describe('history in the status bar', () => {
	test('writing, then failed: disk full with what was dropped, then writing again', async () => {
		const status: HistoryStatus = {state: 'writing', dir: '/tmp/h', written: 0, dropped: 0, tornLines: 0, damagedSegments: 0, bytesOnDisk: 0, segments: 0};
		const ui = setup({columns: 160, rows: 30, history: {status: () => status}});
		try {
			await ui.waitFor('history: writing');
			status.state = 'failed';
			status.reason = 'disk full';
			status.dropped = 1234;
			ui.controller.invalidate();
			await ui.waitFor('history: failed: disk full, 1234 dropped');
			status.state = 'read-only';
			status.reason = 'read-only: another logmon (pid 42) writes it';
			ui.controller.invalidate();
			const frame = await ui.waitFor('history: read-only');
			expect(frame).not.toContain('pid 42');
		} finally {
			ui.close();
		}
	});
});

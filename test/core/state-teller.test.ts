import {expect, test} from 'vitest';
import {type SourceState, StateTeller, newHealth} from '../../source/core/health.js';

// What pipe and serve modes say on stderr of a source's state: each change, and a retry loop not
// on every attempt.

function health(state: SourceState, reason?: string) {
	return {...newHealth('src', 'logio'), state, reason};
}

test('a new state or reason is told at once; the same one again only after a minute', () => {
	const t = new StateTeller(60_000);
	const at = 1_000_000;
	expect(t.tell(health('retrying', 'connection refused'), at)).toBe(true);
	// Each attempt: connecting (said by "retrying in N s"), then retrying for the same reason.
	expect(t.tell(health('connecting'), at + 1000)).toBe(false);
	expect(t.tell(health('retrying', 'connection refused'), at + 1001)).toBe(false);
	expect(t.tell(health('connecting'), at + 3000)).toBe(false);
	expect(t.tell(health('retrying', 'connection refused'), at + 3001)).toBe(false);
	// Another reason is news; so is the old one a minute after it was last told.
	expect(t.tell(health('retrying', 'timed out'), at + 7000)).toBe(true);
	expect(t.tell(health('retrying', 'timed out'), at + 30_000)).toBe(false);
	expect(t.tell(health('retrying', 'timed out'), at + 67_000)).toBe(true);
	// Back up, and down again: both told, however soon.
	expect(t.tell(health('live'), at + 68_000)).toBe(true);
	expect(t.tell(health('retrying', 'timed out'), at + 69_000)).toBe(true);
	// Sources are told apart.
	expect(t.tell({...health('retrying', 'timed out'), id: 'other'}, at + 69_000)).toBe(true);
});

test('connecting is told when it follows anything but a retry line', () => {
	const t = new StateTeller();
	expect(t.tell(health('live'), 0)).toBe(true);
	expect(t.tell(health('connecting'), 1)).toBe(true);
});

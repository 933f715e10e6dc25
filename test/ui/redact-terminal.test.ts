import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, expect, test} from 'vitest';
import {corpusLines, secretCases} from '../support/redact-corpus.js';
import {paneCommand, prepare, Tmux} from '../support/tmux.js';

// The UI in a real terminal (tmux) on the redaction corpus: the tail shows placeholders, never a
// secret; the status bar counts what was redacted and the help overlay names each rule's hits.

let tmux: Tmux | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-ui-redact-'));
const input = path.join(dir, 'corpus.log');

beforeAll(() => {
	prepare();
	writeFileSync(input, corpusLines().join('\n') + '\n');
}, 300_000);

afterEach(() => {
	tmux?.kill();
	tmux = undefined;
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

test('the tail shows placeholders and no secret; the status bar and the help overlay count the hits', async () => {
	tmux = new Tmux(paneCommand('--stdin', {input: [input]}), 200, 60);
	let screen = await tmux.waitFor(s => s.includes('stdin: ended') && s.includes('redacted 42'));
	expect(screen).toContain('[REDACTED:aws-key]');
	expect(screen).toContain('[REDACTED:card]');
	for (const c of secretCases) {
		// Lines may be cut at the pane's edge; no part of a secret as long as 12 characters may show.
		expect(screen, c.rule).not.toContain(c.secret.slice(0, 12));
	}

	tmux.keys(['?']);
	// The overlay may be captured half drawn: wait for its last lines, not its title.
	screen = await tmux.waitFor(s => s.includes('Keys') && s.includes('redacted: 42 events changed'));
	expect(screen).toMatch(/redacted: 42 events changed \(card 9, .*aws-key 3/);
	tmux.keys(['q']);
	await tmux.waitFor('DONE');
});

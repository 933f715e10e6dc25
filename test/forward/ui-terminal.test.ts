import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, expect, test} from 'vitest';
import {paneCommand, prepare, shellQuote, Tmux} from '../support/tmux.js';

// The UI in a real terminal (tmux) with two forwarders: the status bar shows each one's state
// and counts, a failing one's reason, and the file gets every event.

let tmux: Tmux | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'logmon-ui-forward-'));
const input = path.join(dir, 'in.log');

beforeAll(() => {
	prepare();
	writeFileSync(input, Array.from({length: 300}, (_, i) => `line ${i}${i % 10 === 0 ? ' ERROR boom' : ''}`).join('\n') + '\n');
}, 300_000);

afterEach(() => {
	tmux?.kill();
	tmux = undefined;
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

test('the status bar shows each forwarder\'s state and counts', async () => {
	const out = path.join(dir, 'all.ndjson');
	// A file where a directory should be: the second forwarder cannot write, and says why.
	writeFileSync(path.join(dir, 'blocked'), '');
	const config = path.join(dir, 'config.json');
	writeFileSync(config, JSON.stringify({forward: [
		{type: 'file', name: 'archive', path: out},
		{type: 'file', name: 'broken', path: path.join(dir, 'blocked', 'x.ndjson'), filter: 'boom'},
	]}));
	tmux = new Tmux(paneCommand(`--stdin --config ${shellQuote(config)}`, {input: [input]}), 220, 30);
	const screen = await tmux.waitFor(s => s.includes('→ archive: live 300 sent') && /→ broken: retrying in \d+ s \(.*EEXIST/.test(s) && s.includes('30 queued'));
	expect(screen).toContain('stdin: ended');
	expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(300);
	tmux.keys(['q']);
	await tmux.waitFor('DONE');
});

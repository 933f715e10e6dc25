import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {type Browser, chromium} from 'playwright-core';
import {requirePeers} from './alert-peers.js';
import {root} from './logmon.js';

// A real browser for the dashboard's tests: Debian's Chromium (scripts/ensure-chromium.sh installs
// it when missing), driven by playwright-core, which downloads no browser of its own. Without it
// the tests are skipped loudly, or fail under LOGMON_REQUIRE_PEERS=1 (CI).

export const chromiumPath = '/usr/bin/chromium';

/** True when Chromium is there (installed now if it can be); a loud message when it is not. */
export function ensureChromium(): boolean {
	try {
		execFileSync('sh', [path.join(root, 'scripts', 'ensure-chromium.sh')], {stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000});
	} catch (error) {
		const bar = '!'.repeat(78);
		process.stderr.write(`\n${bar}\nlogmon: no Chromium (scripts/ensure-chromium.sh failed: ${(error as Error).message}).\n${requirePeers ? 'LOGMON_REQUIRE_PEERS=1: the dashboard tests will FAIL.' : 'The dashboard tests are SKIPPED.'}\n${bar}\n\n`);
	}

	return existsSync(chromiumPath);
}

/**
 * Headless Chromium as root needs --no-sandbox (playwright passes it); the rest keeps it from
 * calling home, which this machine's closed network refuses over and over.
 */
export async function launchChromium(): Promise<Browser> {
	return chromium.launch({
		executablePath: chromiumPath,
		headless: true,
		args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
	});
}

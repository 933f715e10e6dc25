import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {Dockerd, dockerdBinary, requirePeers} from '../support/dockerd.js';
import {DockerLogmon} from '../support/docker-logmon.js';

// `logmon --docker` against a real engine: Debian's dockerd, started by this file with its
// data in a temporary directory (test/support/dockerd.ts), one engine for every test here.
// What Debian's engine (20.10, API 1.41) cannot show, newer API versions and content types,
// chunks cut anywhere and the engine's error answers, is in docker-double.test.ts.

const binary = dockerdBinary();

/** A shell loop printing `out N` on stdout and `err N` on stderr, N from 1 to n. */
function interleaved(n: number, pause = ''): string {
	return `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; ${pause} done`;
}

function numbers(count: number, prefix: string): string[] {
	return Array.from({length: count}, (_, i) => `${prefix} ${i + 1}`);
}

describe.skipIf(!binary && !requirePeers)('the Docker source against a real engine', () => {
	let engine: Dockerd;
	let logmon: DockerLogmon;
	let hostName: string;

	beforeAll(async () => {
		if (!binary) {
			throw new Error('LOGMON_REQUIRE_PEERS=1 and no Docker engine could be run (scripts/ensure-docker.sh)');
		}

		engine = new Dockerd(binary);
		await engine.start();
		engine.importImage();
		hostName = engine.docker(['info', '--format', '{{.Name}}']);
		// Running before logmon: only what it prints from then on is shown (tail 0, as logspout).
		engine.run('early', 'echo "before logmon"; while true; do echo "early tick"; sleep 0.2; done', {labels: ['com.docker.compose.service=ticker']});
		await until(() => engine.docker(['logs', 'early']).includes('early tick'), 'the early container');
		logmon = new DockerLogmon(engine.host);
		await logmon.until(() => logmon.of('ticker').length > 0, 'the running container followed');
	});

	afterAll(async () => {
		await logmon?.stop('SIGKILL');
		await engine?.destroy();
	});

	test('a running container: new lines only, service from its compose label, host from the engine, the record', () => {
		const tick = logmon.of('ticker')[0]!;
		expect(logmon.events.some(e => e.message === 'before logmon')).toBe(false);
		expect(tick).toMatchObject({kind: 'docker', source: 'docker', service: 'ticker', host: hostName, proc: 'stdout', message: 'early tick'});
		expect(tick.record).toMatchObject({container: {name: 'early', image: 'logmon-busybox:local', labels: {'com.docker.compose.service': 'ticker'}}, stream: 'stdout'});
		expect(tick.record!.container.id).toMatch(/^[\da-f]{64}$/);
		// The event's time is Docker's timestamp, to the millisecond.
		expect(Date.parse(tick.time)).toBe(Math.floor(Date.parse(tick.record!.timestamp.replace(/(\.\d{3})\d*Z$/, '$1Z'))));
	});

	test('a container started after logmon, 20,000 lines on stdout and stderr interleaved: every line once, on the right stream', async () => {
		engine.run('chatty', interleaved(10_000));
		await logmon.until(() => logmon.of('chatty').length >= 20_000, () => `20,000 lines of chatty (${logmon.of('chatty').length} so far)`, 60_000);
		await logmon.until(() => /container chatty \([\da-f]{12}\) left: exited \(exit code 0\)/.test(logmon.stderr), 'chatty leaving');
		// The read after the exit is done by then; a line it showed twice would be on its way.
		await new Promise(resolve => setTimeout(resolve, 300));
		const events = logmon.of('chatty');
		expect(events).toHaveLength(20_000);
		expect(events.filter(e => e.proc === 'stdout').map(e => e.message)).toEqual(numbers(10_000, 'out'));
		expect(events.filter(e => e.proc === 'stderr').map(e => e.message)).toEqual(numbers(10_000, 'err'));
	}, 150_000); // above its own waits: 60 s for the lines, 40 s for the exit

	test('a TTY container: lines without their CR, stderr merged into stdout', async () => {
		engine.run('teletype', 'echo "tty one"; echo "tty two" >&2; printf "tty three\\n"', {tty: true});
		await logmon.until(() => logmon.of('teletype').length >= 3, 'the TTY lines');
		expect(logmon.of('teletype').map(e => [e.proc, e.message])).toEqual([['stdout', 'tty one'], ['stdout', 'tty two'], ['stdout', 'tty three']]);
	});

	test('a 40,000-byte line arrives whole, from frames and from a TTY', async () => {
		const script = 'head -c 40000 /dev/zero | tr "\\0" x; echo; echo after';
		engine.run('long-frames', `${script}; echo "err after" >&2`);
		engine.run('long-tty', script, {tty: true});
		await logmon.until(() => logmon.of('long-frames').length >= 3 && logmon.of('long-tty').length >= 2, 'the long lines');
		for (const name of ['long-frames', 'long-tty']) {
			const [long, after] = logmon.of(name).filter(e => e.proc === 'stdout');
			expect(long!.message).toBe('x'.repeat(40_000));
			expect(after!.message).toBe('after');
		}
	});

	test('a stopped container leaves with a line; LOGSPOUT=ignore and the exclude label skip a container', async () => {
		engine.run('ignored', 'while true; do echo "should not show"; sleep 0.1; done', {env: ['LOGSPOUT=ignore']});
		engine.run('excluded', 'while true; do echo "should not show"; sleep 0.1; done', {labels: ['logspout.exclude=true']});
		engine.run('stopping', 'trap "exit 3" TERM; echo "about to stop"; while true; do sleep 0.1; done');
		await logmon.until(() => logmon.of('stopping').length > 0, 'the line of stopping');
		engine.docker(['stop', '-t', '5', 'stopping']);
		await logmon.until(() => /container stopping \([\da-f]{12}\) left: exited \(exit code 3\)/.test(logmon.stderr), 'stopping leaving');
		expect(logmon.stderr).toMatch(/container ignored \([\da-f]{12}\) skipped: LOGSPOUT=ignore in its environment/);
		expect(logmon.stderr).toMatch(/container excluded \([\da-f]{12}\) skipped: the label logspout\.exclude/);
		expect(logmon.events.some(e => e.message === 'should not show')).toBe(false);
		engine.docker(['rm', '-f', 'ignored', 'excluded']);
	});

	test('a restarted container shows its new run only', async () => {
		engine.docker(['run', '--name', 'again', '--network', 'none', 'logmon-busybox:local', 'sh', '-c', 'echo "run $(cat /tmp/n 2>/dev/null || echo 1)"; echo 2 > /tmp/n']);
		await logmon.until(() => logmon.of('again').length >= 1, 'the first run');
		engine.docker(['start', 'again']);
		await logmon.until(() => logmon.of('again').length >= 2 && (logmon.stderr.match(/container again \S+ left/g) ?? []).length >= 2, 'the second run');
		expect(logmon.of('again').map(e => e.message)).toEqual(['run 1', 'run 2']);
	});

	test('--tail N and --since for the containers already running', async () => {
		engine.run('history', 'for i in 1 2 3 4 5; do echo "line $i"; done; while true; do sleep 1; done');
		await until(() => engine.docker(['logs', 'history']).includes('line 5'), 'the history container');
		const tail = new DockerLogmon(engine.host, ['--tail', '2']);
		const since = new DockerLogmon(engine.host, ['--since', '1h']);
		try {
			await tail.until(() => tail.of('history').length >= 2, 'the last 2 lines');
			await since.until(() => since.of('history').length >= 5, 'the lines of the last hour');
			expect(tail.of('history').map(e => e.message)).toEqual(['line 4', 'line 5']);
			expect(since.of('history').map(e => e.message)).toEqual(numbers(5, 'line'));
		} finally {
			await tail.stop('SIGKILL');
			await since.stop('SIGKILL');
			engine.docker(['rm', '-f', 'history']);
		}
	});

	test('a dockerd restart mid-stream: retrying, then a gap marker and every line once', async () => {
		const n = 3000;
		engine.run('steady', interleaved(n, 'usleep 2000;'));
		await logmon.until(() => logmon.of('steady').length >= 400, 'steady under way');
		await engine.stop();
		await logmon.until(() => /docker: retrying in \d+ s/.test(logmon.stderr), 'logmon retrying');
		const before = logmon.of('steady').length;
		await engine.start();
		await logmon.until(() => logmon.of('steady').length >= 2 * n, `all ${2 * n} lines of steady`, 90_000);
		const events = logmon.of('steady');
		expect(before).toBeLessThan(2 * n);
		expect(events).toHaveLength(2 * n);
		expect(events.filter(e => e.proc === 'stdout').map(e => e.message)).toEqual(numbers(n, 'out'));
		expect(events.filter(e => e.proc === 'stderr').map(e => e.message)).toEqual(numbers(n, 'err'));
		expect(logmon.events.some(e => e.marker === 'gap' && /docker: disconnected .*lines may be missing/.test(e.message))).toBe(true);
		// The early container is followed again too.
		const ticks = logmon.of('ticker').length;
		await logmon.until(() => logmon.of('ticker').length > ticks + 2, 'the early container followed again');
	}, 150_000);
});

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
	for (const deadline = Date.now() + timeoutMs; !check();) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, 100));
	}
}

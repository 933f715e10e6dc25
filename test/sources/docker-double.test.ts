import {afterAll, afterEach, beforeAll, describe, expect, test} from 'vitest';
import {DockerDouble, type DoubleContainer, stampOf} from '../support/docker-double.js';
import {DockerLogmon} from '../support/docker-logmon.js';
import {run, start, waitFor} from '../support/logmon.js';

// `logmon --docker` against the engine test double (test/support/docker-double.ts), for what
// Debian's engine in docker-engine.test.ts cannot show:
// - a newer API (1.47) that names its streams' content types, and /events as it sends them;
// - chunks cut anywhere: inside frame headers, timestamps and UTF-8 characters;
// - lines that share a timestamp at the point a resume starts from;
// - a follow ended by the container's exit before its last lines were sent (the real engine does it
//   only now and then, under load), and the read after it refused (409) for a container being removed;
// - an inspect the engine fails (500), and logs refused (409) again and again under a running container;
// - a frame of a stream that does not exist, and a line on /events that is not JSON;
// - the engine's JSON errors: 500 on /info, 404 and 501 on a container's logs;
// - the flags: DOCKER_HOST, usage errors, a socket that is not there.

describe('the Docker source against the engine test double', () => {
	let engine: DockerDouble;
	const running: DockerLogmon[] = [];

	function logmon(args: string[] = []): DockerLogmon {
		const m = new DockerLogmon(engine.host, args);
		running.push(m);
		return m;
	}

	/** A logmon following a new container `name`, which has printed one line and had it shown. */
	async function followedWithALine(name: string): Promise<[DockerLogmon, DoubleContainer]> {
		const m = logmon();
		const c = engine.add(name);
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)), 'the stream open');
		engine.print(c, 1, ['a line']);
		await m.until(() => m.of(name).length === 1, 'its line');
		return [m, c];
	}

	beforeAll(async () => {
		engine = await new DockerDouble().start();
	});

	afterEach(async () => {
		await Promise.all(running.splice(0).map(async m => m.stop('SIGKILL')));
		engine.cutting = 'whole';
	});

	afterAll(async () => {
		await engine.destroy();
	});

	test('API 1.47 with content types, chunks cut inside headers, timestamps and UTF-8: every line whole, on its stream', async () => {
		const m = logmon();
		await m.until(() => engine.requests.some(r => r.startsWith('/containers/json')), 'the container list');
		engine.cutting = [1, 2, 3, 5, 7, 11, 13];
		const frames = engine.add('frames', {labels: {'com.docker.compose.service': 'api'}});
		const tty = engine.add('teletype', {tty: true});
		await m.until(() => [frames, tty].every(c => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`))), 'both streams open');
		const texts = Array.from({length: 60}, (_, i) => `ligne ${i} été ✓ 日本語 🎉`);
		for (const [i, text] of texts.entries()) {
			engine.print(frames, i % 2 === 0 ? 1 : 2, [text]);
			engine.print(tty, 1, [text]);
		}

		engine.print(frames, 1, ['é'.repeat(20_000)]);
		engine.print(tty, 1, ['é'.repeat(20_000)]);
		await m.until(() => m.of('api').length >= 61 && m.of('teletype').length >= 61, 'every line');
		expect(m.of('api').map(e => [e.proc, e.message])).toEqual([...texts.map((t, i) => [i % 2 === 0 ? 'stdout' : 'stderr', t]), ['stdout', 'é'.repeat(20_000)]]);
		expect(m.of('teletype').map(e => e.message)).toEqual([...texts, 'é'.repeat(20_000)]);
		expect(m.of('api')[0]).toMatchObject({host: 'double-host', record: {container: {name: 'frames', image: 'app:1.0', labels: {'com.docker.compose.service': 'api'}}, stream: 'stdout'}});
		expect(m.stderr).not.toMatch(/parse error|cannot/);
	});

	test('a JSON line gives its level and message; the container still names the service', async () => {
		// The earlier tests' containers still run: wait for this run's own list, and for this
		// container's own stream (a line printed before that is not read: tail=0 or since).
		const before = engine.requests.length;
		const m = logmon();
		await m.until(() => engine.requests.slice(before).some(r => r.startsWith('/containers/json')), 'the container list');
		const c = engine.add('json-app');
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)), 'the stream open');
		engine.print(c, 1, ['{"level":"error","msg":"payment failed","service":"other","order":7}']);
		await m.until(() => m.of('json-app').length > 0, 'the JSON line');
		expect(m.of('json-app')[0]).toMatchObject({level: 'ERROR', message: 'payment failed', service: 'json-app', record: {value: {order: 7}, container: {name: 'json-app'}}});
	});

	test('the engine restarts: lines that share the timestamp where the resume starts are shown once, with a gap marker', async () => {
		const m = logmon();
		const c = engine.add('same-time');
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)), 'the stream open');
		const base = Date.now();
		engine.print(c, 1, ['a1', 'a2'], () => stampOf(base));
		// Three lines at one instant, then stderr with an earlier time written later.
		engine.print(c, 1, ['b1', 'b2', 'b3'], () => stampOf(base + 1));
		engine.print(c, 2, ['e0'], () => stampOf(base, 500));
		await m.until(() => m.of('same-time').length >= 6, 'the first lines');
		await engine.stop();
		await m.until(() => /docker: retrying in \d+ s/.test(m.stderr), 'logmon retrying');
		// The socket's own word ("aborted") comes with where.
		expect(m.stderr).toMatch(/docker: retrying in \d+ s \(unix:\/\/\/\S+\/docker\.sock: aborted\)/);
		engine.print(c, 1, ['c1'], () => stampOf(base + 1));
		engine.print(c, 1, ['d1'], () => stampOf(base + 2));
		await engine.start();
		await m.until(() => m.of('same-time').length >= 8, 'the lines after the restart');
		const resumed = engine.requests.filter(r => r.includes(`/containers/${c.id}/logs`)).at(-1)!;
		expect(new URL(resumed, 'http://x').searchParams.get('since')).toMatch(/^\d{10}\.\d{9}$/);
		expect(m.of('same-time').map(e => e.message)).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'e0', 'c1', 'd1']);
		expect(m.events.some(e => e.marker === 'gap')).toBe(true);
	});

	test('a follow that ends as the container exits, before its last lines were sent: they are read after, once each', async () => {
		const m = logmon();
		const c = engine.add('burst');
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)), 'the stream open');
		const sent = Array.from({length: 50}, (_, i) => `sent ${i}`);
		const late = Array.from({length: 50}, (_, i) => `late ${i}`);
		engine.print(c, 1, sent);
		engine.printUnsent(c, 2, late);
		engine.exit(c, 0);
		await m.until(() => m.of('burst').length >= 100 && /container burst \([\da-f]{12}\) left: exited \(exit code 0\)/.test(m.stderr), 'every line, and burst leaving');
		expect(m.of('burst').map(e => e.message)).toEqual([...sent, ...late]);
	});

	test('a container removed as it exits (`--rm`): the read after the exit is refused with 409, and it leaves with its exit code', async () => {
		const [m, c] = await followedWithALine('ephemeral');
		c.logsError = {status: 409, message: 'can not get logs from container which is dead or marked for removal'};
		engine.exit(c, 2);
		await m.until(() => /container ephemeral \([\da-f]{12}\) left: /.test(m.stderr), 'ephemeral leaving');
		expect(m.stderr).toMatch(/container ephemeral \([\da-f]{12}\) left: exited \(exit code 2\)/);
		expect(m.stderr).not.toMatch(/cannot be read/);
	});

	test('an inspect the engine fails (500) after an exit is made again: the container still leaves with its exit code', async () => {
		const [m, c] = await followedWithALine('unsure');
		c.inspectErrors = 1;
		engine.exit(c, 4);
		await m.until(() => /container unsure \([\da-f]{12}\) left: exited \(exit code 4\)/.test(m.stderr), 'unsure leaving');
	});

	test('logs refused with 409 again and again under a running container: it leaves, said once, instead of being asked forever', async () => {
		const m = logmon();
		const c = engine.add('stuck');
		c.logsError = {status: 409, message: 'can not get logs from container which is dead or marked for removal'};
		await m.until(() => /container stuck \([\da-f]{12}\) left: its logs cannot be read/.test(m.stderr), 'stuck leaving');
		const asked = engine.requests.filter(r => r.includes(`/containers/${c.id}/logs`)).length;
		expect(asked).toBe(4);
		await new Promise(resolve => setTimeout(resolve, 1200));
		expect(engine.requests.filter(r => r.includes(`/containers/${c.id}/logs`))).toHaveLength(asked);
	});

	test('bad input is counted and skipped: a frame of an unknown stream, an event that is not JSON', async () => {
		const m = logmon();
		const c = engine.add('odd');
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)), 'the stream open');
		const header = Buffer.from([3, 0, 0, 0, 0, 0, 0, 5]);
		engine.raw(c, Buffer.concat([header, Buffer.from('junk!')]));
		engine.rawEvent('this is not json\n');
		engine.print(c, 1, ['fine']);
		await m.until(() => m.of('odd').length > 0, 'the good line');
		expect(m.of('odd').map(e => e.message)).toEqual(['fine']);
		await m.until(() => /unknown stream byte/.test(m.stderr) && /an engine event that is not JSON/.test(m.stderr), 'both parse errors');
	});

	test('answers of the wrong shape are counted and the source goes on: a list that is no array or holds null, an inspect whose Env is a string; a list failing again and again makes one gap marker', async () => {
		const [m, c] = await followedWithALine('steady');
		// The list fails at each try after the events stream is cut: retried, one marker once it answers.
		const lists = () => engine.requests.filter(r => r.includes('/containers/json')).length;
		const listed = lists();
		engine.listAnswer = '<html>';
		engine.cutEvents();
		// Told once on stderr (a retry loop is not told on every attempt); the engine sees each try.
		await m.until(() => /retrying in \d+ s \(GET \/containers\/json: the engine's answer is not JSON\)/.test(m.stderr) && lists() >= listed + 2, 'two failed lists');
		engine.listAnswer = '{"a":1}';
		await m.until(() => /a container list from the engine that is not a JSON array/.test(m.stderr), 'the list that is no array');
		engine.listAnswer = '[null]';
		await m.until(() => /1 entry of the engine's container list without an id, skipped/.test(m.stderr), 'the null entry');
		engine.listAnswer = undefined;
		const odd = engine.add('odd-shape');
		odd.inspectAnswer = {Id: odd.id, Name: '/odd-shape', Config: {Env: 'LOGSPOUT=ignore', Labels: {'com.docker.compose.service': 5}, Tty: 'no'}, State: {Running: true}};
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${odd.id}/logs`)), 'the odd one followed');
		engine.print(odd, 1, ['still here']);
		engine.print(c, 1, ['after']);
		await m.until(() => m.of('odd-shape').length === 1 && m.of('steady').length === 2, 'both lines');
		expect(m.events.filter(e => e.marker === 'gap')).toHaveLength(1);
		expect(m.stderr).not.toMatch(/TypeError|unhandled/i);
	});

	test('the engine\'s errors: 500 on /info retries with its message; logs refused (501) or gone (404)', async () => {
		engine.infoError = {status: 500, message: 'Error response from daemon: something broke'};
		const m = logmon();
		await m.until(() => /retrying in \d+ s \(GET \/info: HTTP 500: Error response from daemon: something broke\)/.test(m.stderr), 'the retrying state');
		engine.infoError = undefined;
		const refused = engine.add('no-logs');
		refused.logsError = {status: 501, message: 'configured logging driver does not support reading'};
		await m.until(() => /container no-logs \S+ left: its logs cannot be read: GET \/containers\/\w+\/logs\?[^:]*: HTTP 501: configured logging driver does not support reading/.test(m.stderr), 'the refusal', 60_000);
		const gone = engine.add('gone');
		await m.until(() => engine.requests.some(r => r.includes(`/containers/${gone.id}/logs`)), 'the stream open');
		engine.containers.delete(gone.id);
		engine.exit(gone, 0);
		await m.until(() => /container gone \S+ left: removed/.test(m.stderr), 'the removed container');
	});
});

describe('the --docker flags', () => {
	test('usage errors name the flag', async () => {
		const tail = await run(['--no-ui', '--tail', '5']);
		expect(tail.code).toBe(2);
		expect(tail.stderr).toMatch(/--tail: only with --docker/);
		const socket = await run(['--no-ui', '--docker', 'ftp://example']);
		expect(socket.code).toBe(2);
		expect(socket.stderr).toMatch(/--docker: socket: expected unix:\/\/\/var\/run\/docker\.sock/);
		const since = await run(['--no-ui', '--docker', '--since', 'yesterday']);
		expect(since.code).toBe(2);
		expect(since.stderr).toMatch(/since: expected a duration/);
		const help = await run(['--help']);
		expect(help.stdout).toMatch(/--docker \[SOCKET\]/);
		expect(help.stdout).toMatch(/\$ logmon --docker --since 10m --level warn/);
	});

	test('DOCKER_HOST is honoured, and a socket that is not there is retried with a reason', async () => {
		const engine = await new DockerDouble().start();
		const c = engine.add('from-env');
		const child = start(['--docker', '--no-ui', '--no-history', '-o', 'raw'], {env: {DOCKER_HOST: engine.host}, stdin: 'ignore'});
		try {
			// The stream opens with tail=0: print once it is open.
			for (let i = 0; i < 200 && !engine.requests.some(r => r.includes(`/containers/${c.id}/logs`)); i++) {
				await new Promise(resolve => setTimeout(resolve, 50));
			}

			const seen = waitFor(child.stdout!, 'hello from DOCKER_HOST');
			engine.print(c, 1, ['hello from DOCKER_HOST']);
			await seen;
		} finally {
			child.kill('SIGKILL');
			await engine.destroy();
		}

		const missing = start(['--docker', 'unix:///nonexistent/docker.sock', '--no-ui', '--no-history'], {stdin: 'ignore'});
		try {
			await waitFor(missing.stderr!, /docker: retrying in \d+ s \(no Docker socket at unix:\/\/\/nonexistent\/docker\.sock: is dockerd running\?/);
		} finally {
			missing.kill('SIGKILL');
		}
	});
});

import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {eventually, jsonLine, request, serve, stop, type Served} from '../support/http.js';
import {run} from '../support/logmon.js';

// The REST endpoints of the built logmon over real HTTP: shapes, parameters, errors, limits.
// Events go in through stdin, as JSON lines with service, host, level and type.

const lines = [
	jsonLine({level: 'info', service: 'web', host: 'w1', message: 'GET /index 200'}),
	jsonLine({level: 'error', service: 'usermanagement', host: 'u1', message: 'user 1234 not found in ldap://10.0.0.7'}),
	jsonLine({level: 'warn', service: 'web', host: 'w2', message: 'slow answer 900 ms'}),
	jsonLine({level: 'critical', service: 'billing', host: 'b1', message: 'database connection refused'}),
	jsonLine({level: 'error', service: 'usermanagement', host: 'u2', message: 'user 5678 not found in ldap://10.0.0.8'}),
	jsonLine({level: 'debug', service: 'billing', host: 'b1', message: 'retrying'}),
];

describe('REST API from memory (history off)', () => {
	let s: Served;
	beforeAll(async () => {
		s = await serve(['--no-history']);
		s.child.stdin!.write(lines.join(''));
		await eventually(async () => (await request(`${s.base}/api/v1/logs/stats`)).json?.total === lines.length, 'the events counted');
	});
	afterAll(async () => {
		await stop(s);
	});

	it('errors: ERROR and CRITICAL, newest first, in the -o json shape with an id; by service too', async () => {
		const r = await request(`${s.base}/api/v1/logs/errors?limit=100`);
		expect(r.status).toBe(200);
		expect(r.json).toMatchObject({from: 'memory', count: 3, limit: 100, clamped: false, more: false});
		expect(r.json.events.map((e: {message: string}) => e.message)).toEqual(['user 5678 not found in ldap://10.0.0.8', 'database connection refused', 'user 1234 not found in ldap://10.0.0.7']);
		const first = r.json.events[0];
		expect(first).toMatchObject({id: expect.stringMatching(/^\d+-5$/), seq: 5, source: 'stdin', kind: 'stdin', service: 'usermanagement', host: 'u2', level: 'ERROR', record: {service: 'usermanagement'}});
		expect(first.time).toMatch(/Z$/);

		const byQuery = await request(`${s.base}/api/v1/logs/errors?limit=1&service=usermanagement`);
		expect(byQuery.json).toMatchObject({count: 1, more: true});
		expect(byQuery.json.events[0].seq).toBe(5);
		const byPath = await request(`${s.base}/api/v1/logs/errors/billing?limit=50`);
		expect(byPath.json.events.map((e: {seq: number}) => e.seq)).toEqual([4]);
	});

	it('events: any events, a page at a time with a stable next cursor', async () => {
		const page1 = await request(`${s.base}/api/v1/logs/events?limit=4`);
		expect(page1.json.events.map((e: {seq: number}) => e.seq)).toEqual([6, 5, 4, 3]);
		expect(page1.json.next).toBe(page1.json.events[3].id);
		// New events meanwhile do not shift the next page.
		s.child.stdin!.write(jsonLine({message: 'late arrival'}));
		await eventually(async () => (await request(`${s.base}/api/v1/logs/stats`)).json?.total === lines.length + 1, 'the late event');
		const page2 = await request(`${s.base}/api/v1/logs/events?limit=4&cursor=${page1.json.next as string}`);
		expect(page2.json.events.map((e: {seq: number}) => e.seq)).toEqual([2, 1]);
		expect(page2.json.next).toBeNull();
		expect(page2.json.from).toBe('memory');
	});

	it('since, until, level, host, type and q (the f prompt grammar) filter every list', async () => {
		const get = async (q: string): Promise<number[]> => ((await request(`${s.base}/api/v1/logs/events?${q}`)).json.events as Array<{seq: number}>).map(e => e.seq).filter(n => n <= 6);
		expect(await get('level=warn')).toEqual([5, 4, 3, 2]);
		expect(await get('host=b1,w1')).toEqual([6, 4, 1]);
		expect(await get(`q=${encodeURIComponent('service=usermanagement "not found" !5678')}`)).toEqual([2]);
		expect(await get(`q=${encodeURIComponent('level>=critical')}`)).toEqual([4]);
		expect(await get('since=1h&until=1s')).toEqual([]);
		expect(await get('since=1h')).toHaveLength(6);
		expect(await get(`until=${encodeURIComponent('2001-01-01T00:00:00Z')}`)).toEqual([]);
	});

	it('stats: totals, per service, per level, the error rate, events/s now and over windows', async () => {
		const r = await request(`${s.base}/api/v1/logs/stats`);
		expect(r.json).toMatchObject({from: 'memory', since: null, total: 7, errors: 3, levels: {INFO: 2, ERROR: 2, CRITICAL: 1, WARN: 1, DEBUG: 1}});
		expect(r.json.errorRate).toBeCloseTo(3 / 7);
		expect(r.json.services.map((x: {service: string}) => x.service)).toEqual(['web', 'billing', 'usermanagement']);
		expect(r.json.services[2]).toMatchObject({service: 'usermanagement', total: 2, errors: 2, errorRate: 1, lastSeen: expect.stringMatching(/Z$/)});
		expect(Object.keys(r.json.eventsPerSecond)).toEqual(['now', '1m', '5m', '15m', '1h']);
		expect(Object.keys(r.json.errorsPerSecond)).toEqual(['1m', '5m', '15m', '1h']);
		const filtered = await request(`${s.base}/api/v1/logs/stats?level=error&host=u1`);
		expect(filtered.json).toMatchObject({total: 1, errors: 1});
	});

	it('stats: the rates are of the events the filter passes', async () => {
		const rates = async (q: string): Promise<{events: Record<string, number>; errors: Record<string, number>; from: unknown}> => {
			const r = await request(`${s.base}/api/v1/logs/stats?${q}`);
			return {events: r.json.eventsPerSecond, errors: r.json.errorsPerSecond, from: r.json.ratesFrom};
		};

		const all = await rates('');
		// Every usermanagement event is an error: both rates are the same count over the same window.
		const users = await rates('service=usermanagement');
		expect(users.events['1h']).toBeGreaterThan(0);
		expect(users.errors['1h']).toBe(users.events['1h']);
		const web = await rates('service=web');
		expect(web.errors['1h']).toBe(0);
		expect(web.events['1h']).toBeGreaterThan(0);
		expect(web.events['1h']).toBeLessThan(all.events['1h']!);
		const level = await rates('level=critical');
		expect(level.errors['15m']).toBe(level.events['15m']);
		expect(level.events['15m']).toBeLessThan(users.events['15m']!);
		expect(await rates('host=nowhere')).toMatchObject({events: {now: 0, '1m': 0, '1h': 0}, errors: {'1m': 0, '1h': 0}});
		const q = await rates(`q=${encodeURIComponent('"not found"')}`);
		expect(q.from).toBe('buffer');
		expect(q.events['1m']).toBeGreaterThan(0);
		expect(q.errors['1m']).toBe(q.events['1m']);
	});

	it('services: every service with counts and last-seen time', async () => {
		const r = await request(`${s.base}/api/v1/logs/services`);
		expect(r.json.from).toBe('memory');
		expect(r.json.services).toHaveLength(3);
		expect(r.json.services[0]).toMatchObject({service: 'web', total: 3, errors: 0, levels: {INFO: 2, WARN: 1}});
	});

	it('groups: fingerprints with counts, first and last seen, a sample', async () => {
		const r = await request(`${s.base}/api/v1/logs/groups?sort=count`);
		expect(r.json).toMatchObject({from: 'memory', window: 'since start', total: 3, groupCount: 2});
		expect(r.json.groups[0]).toMatchObject({fingerprint: 'user <n> not found in <url>', count: 2, level: 'ERROR', services: ['usermanagement'], sample: {seq: 5}});
		expect(r.json.groups[0].buckets.counts.reduce((a: number, b: number) => a + b, 0)).toBe(2);
		const billing = await request(`${s.base}/api/v1/logs/groups?service=billing`);
		expect(billing.json.groups.map((g: {fingerprint: string}) => g.fingerprint)).toEqual(['database connection refused']);
	});

	it('bad parameters: 400 naming the parameter; limits clamped to the documented maximum', async () => {
		const cases: Array<[string, string]> = [
			['events?limit=0', 'limit'],
			['events?limit=ten', 'limit'],
			['events?since=yesterday', 'since'],
			// RFC 3339 only: a looser parse took `May 1` for 2001 and `1.5` for an epoch second.
			['events?since=May%201', 'since'],
			['events?since=1.5', 'since'],
			['events?until=12', 'until'],
			['events?since=1m&until=1h', 'until'],
			['errors?level=loud', 'level'],
			['events?q=%28unclosed', 'q'],
			['events?cursor=nope', 'cursor'],
			['groups?sort=oldest', 'sort'],
			['stats?until=later', 'until'],
		];
		for (const [url, parameter] of cases) {
			const r = await request(`${s.base}/api/v1/logs/${url}`);
			expect(r.status, url).toBe(400);
			expect(r.json, url).toMatchObject({status: 400, parameter, error: expect.stringMatching(new RegExp(`^${parameter}: `))});
		}

		const clamped = await request(`${s.base}/api/v1/logs/events?limit=1000000`);
		expect(clamped.json).toMatchObject({limit: 10_000, clamped: true});
	});
});

describe('REST API from the history', () => {
	it('answers from the history, across a restart, and says so', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-http-history-'));
		try {
			const first = await serve(['--history', '--history-dir', dir]);
			first.child.stdin!.write(lines.join(''));
			await eventually(async () => (await request(`${first.base}/api/v1/health`)).json?.history?.written >= lines.length, 'the history written');
			expect(await stop(first)).toBe(0);

			const second = await serve(['--history', '--history-dir', dir]);
			second.child.stdin!.write(jsonLine({level: 'error', service: 'web', message: 'after the restart'}));
			await eventually(async () => (await request(`${second.base}/api/v1/logs/stats`)).json?.total === lines.length + 1, 'the new event counted');
			const errors = await request(`${second.base}/api/v1/logs/errors`);
			expect(errors.json.from).toBe('history');
			expect(errors.json.events.map((e: {message: string}) => e.message)).toEqual(['after the restart', 'user 5678 not found in ldap://10.0.0.8', 'database connection refused', 'user 1234 not found in ldap://10.0.0.7']);
			const stats = await request(`${second.base}/api/v1/logs/stats`);
			expect(stats.json).toMatchObject({from: 'history', total: 7, errors: 4});
			// A service only the history holds has its last-seen time too (read from the history in the background).
			await eventually(async () => ((await request(`${second.base}/api/v1/logs/services`)).json?.services as Array<{service: string; lastSeen: string | null}> | undefined)?.every(x => x.lastSeen !== null), 'every lastSeen known');
			const services = (await request(`${second.base}/api/v1/logs/services`)).json.services as Array<{service: string; lastSeen: string}>;
			const lastSeen = Object.fromEntries(services.map(x => [x.service, Date.parse(x.lastSeen)]));
			expect(lastSeen['billing']).toBeGreaterThanOrEqual(lastSeen['usermanagement']!);
			expect(lastSeen['web']).toBeGreaterThan(lastSeen['billing']!);
			expect(lastSeen['usermanagement']).toBeLessThan(Date.now());
			const windowed = await request(`${second.base}/api/v1/logs/stats?since=1h&service=billing`);
			expect(windowed.json).toMatchObject({from: 'history', total: 2, errors: 1});
			const windowedServices = (await request(`${second.base}/api/v1/logs/services?since=1h`)).json.services as Array<{service: string; lastSeen: string | null}>;
			expect(Object.fromEntries(windowedServices.map(x => [x.service, x.lastSeen === null ? null : Date.parse(x.lastSeen)]))).toEqual(lastSeen);
			// Pages run from the new run into the old one without a repeat.
			const seen: string[] = [];
			let cursor = '';
			for (let i = 0; i < 10; i++) {
				const page = await request(`${second.base}/api/v1/logs/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
				seen.push(...(page.json.events as Array<{id: string}>).map(e => e.id));
				if (!page.json.next) {
					break;
				}

				cursor = page.json.next as string;
			}

			expect(seen).toHaveLength(7);
			expect(new Set(seen).size).toBe(7);
			const groups = await request(`${second.base}/api/v1/logs/groups?since=1h`);
			expect(groups.json).toMatchObject({from: 'history', total: 4, groupCount: 3});
			expect(await stop(second)).toBe(0);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});

describe('--http on an ordinary run', () => {
	it('pipe mode keeps writing the stream to stdout while the API answers', async () => {
		const s = await serve(['-o', 'json'], {command: ['--no-ui', '--stdin']});
		s.child.stdin!.write(lines[1]!);
		await eventually(async () => (await request(`${s.base}/api/v1/logs/errors`)).json?.count === 1, 'the error served');
		s.child.stdin!.end();
		const code = await new Promise(resolve => s.child.once('close', resolve));
		expect(code).toBe(0);
		expect(JSON.parse(s.stdout())).toMatchObject({seq: 1, service: 'usermanagement', level: 'ERROR'});
	});

	it('a bad address or a taken port is an error naming --http', async () => {
		const bad = await run(['--no-ui', '--http', 'localhost:99999']);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/--http: expected \[HOST:\]PORT/);
		const s = await serve();
		const taken = await run(['serve', '--no-history', '--http', `127.0.0.1:${s.port}`]);
		expect(taken.code).toBe(2);
		expect(taken.stderr).toMatch(new RegExp(`--http: cannot listen on 127\\.0\\.0\\.1:${s.port}: the port is in use`));
		await stop(s);
	});
});

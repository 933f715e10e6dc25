import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {expectTable} from '../support/grafana-contract.js';
import {eventually, request, serve, stop, type Served} from '../support/http.js';
import {ReferenceLogioServer} from '../support/logio-peers.js';

// Annotations from a real run: a logio upstream that goes away (the source retries: a failure
// region) and comes back (a gap marker), and an alert rule that fires. Asked for as simPod asks
// (a /query whose target answers a table of time, timeEnd, title, text, tags) and as SimpleJSON
// asks (POST /annotations). Then CORS: a browser-direct Grafana's preflight, only when configured.

describe('Grafana annotations: gaps, source failures, alerts', () => {
	let s: Served;
	let upstream: ReferenceLogioServer;
	const started = Date.now();
	const post = async (what: string, body: unknown) => request(`${s.base}/api/v1/grafana${what}`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
	const range = () => ({from: new Date(started - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), raw: {from: 'now-1h', to: 'now'}});
	const annotationsQuery = (payload: unknown = {}) => ({range: range(), rangeRaw: {from: 'now-1h', to: 'now'}, intervalMs: 10_000, maxDataPoints: 500, targets: [{target: 'annotations', refId: 'Anno', payload}]});

	beforeAll(async () => {
		upstream = new ReferenceLogioServer();
		const port = await upstream.listen();
		s = await serve(['--logio', `${upstream.url}?app=shop`, '--alert', 'level>=critical'], {command: ['serve', '--no-history']});
		await eventually(async () => upstream.subs.size === 1, 'the subscription');
		upstream.notify({time: Date.now(), app: 'shop', proc: 'web', host: 'node-1', raw: 'CRITICAL disk full on /var\n'});
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json?.sources?.[0]?.events === 1, 'the line read');
		await upstream.close();
		await eventually(async () => (await request(`${s.base}/api/v1/health`)).json?.sources?.[0]?.state === 'retrying', 'the source retrying');
		// The failure is open: it ends now, until the source is live again.
		const open = await post('/query', annotationsQuery({kinds: ['failures']}));
		expect(expectTable(open.json[0]).rows).toHaveLength(1);
		upstream = new ReferenceLogioServer();
		for (let tries = 0; !upstream.server.listening; tries++) {
			await upstream.listen(port).catch(async (error: unknown) => {
				if (tries > 50) {
					throw error;
				}

				await new Promise(resolve => setTimeout(resolve, 100));
			});
		}

		await eventually(async () => upstream.subs.size === 1, 'the resubscription', 30_000);
	});
	afterAll(async () => {
		await stop(s);
		await upstream.close();
	});

	it('simPod: the annotations target answers a table of time, timeEnd, title, text, tags', async () => {
		const r = await eventually(async () => {
			const a = await post('/query', annotationsQuery());
			return a.json?.[0]?.rows?.length === 3 ? a : undefined;
		}, 'the gap, the failure and the alert');
		const table = expectTable(r.json[0], ['time', 'timeEnd', 'title', 'text', 'tags']);
		expect(r.json[0].refId).toBe('Anno');
		expect(table.columns.map(c => c.type)).toEqual(['time', 'time', 'string', 'string', 'string']);
		const byTag = Object.fromEntries(table.rows.map(row => [(row[4] as string).split(',')[0], row]));
		expect(Object.keys(byTag).sort()).toEqual(['alert', 'failure', 'gap']);
		const [fStart, fEnd, fTitle, fText, fTags] = byTag['failure']!;
		expect(fTitle).toMatch(/^logio: (retrying|failed)$/);
		expect(fText).toMatch(/refused|closed|ECONNREFUSED|socket/i);
		expect(fTags).toBe('failure,logio,logio');
		expect(fEnd as number).toBeGreaterThan(fStart as number);
		const [gTime, gEnd, gTitle, gText] = byTag['gap']!;
		expect(gTitle).toBe('logio: gap');
		expect(gText).toMatch(/disconnected .* lines may be missing/);
		expect(gEnd).toBe(gTime);
		const alert = byTag['alert']!;
		expect(alert[2]).toMatch(/: firing$/);
		expect(alert[3]).toMatch(/disk full/);
		// Rows in time order: the alert came first, then the outage, then the gap when it was over.
		expect(table.rows.map(row => (row[4] as string).split(',')[0])).toEqual(['alert', 'failure', 'gap']);
	});

	it('payload kinds and a source filter narrow them', async () => {
		const gaps = await post('/query', annotationsQuery({kinds: ['gaps']}));
		expect(expectTable(gaps.json[0]).rows.map(row => row[2])).toEqual(['logio: gap']);
		const other = await post('/query', {...annotationsQuery(), filters: [{key: 'source', operator: '=', value: 'elsewhere'}]});
		expect(expectTable(other.json[0]).rows.map(row => (row[4] as string).split(',')[0])).toEqual(['alert']);
	});

	it('SimpleJSON: POST /annotations with the query text picking kinds', async () => {
		const annotation = {name: 'outages', datasource: 'logmon', iconColor: 'rgba(255, 96, 96, 1)', enable: true, query: 'failures gaps'};
		const r = await post('/annotations', {range: range(), rangeRaw: {from: 'now-1h', to: 'now'}, annotation, variables: []});
		expect(r.status).toBe(200);
		expect(r.json).toHaveLength(2);
		for (const a of r.json) {
			expect(a.annotation).toEqual(annotation);
			expect(typeof a.time).toBe('number');
			expect(typeof a.title).toBe('string');
			expect(typeof a.text).toBe('string');
			expect(Array.isArray(a.tags)).toBe(true);
		}

		const failure = r.json.find((a: {tags: string[]}) => a.tags[0] === 'failure');
		expect(failure).toMatchObject({isRegion: true, timeEnd: expect.any(Number)});
		const all = await post('/annotations', {range: range(), annotation: {name: 'all', enable: true, query: ''}});
		expect(all.json).toHaveLength(3);
	});
});

describe('Grafana with a token', () => {
	it('every Grafana call needs the bearer token, the test connection too', async () => {
		const token = 'grafana-test-token-0123456789abcdef';
		const s = await serve(['--http-token', token]);
		try {
			const bare = await request(`${s.base}/api/v1/grafana`);
			expect(bare.status).toBe(401);
			const query = await request(`${s.base}/api/v1/grafana/search`, {method: 'POST', body: '{}'});
			expect(query.status).toBe(401);
			const ok = await request(`${s.base}/api/v1/grafana/search`, {method: 'POST', body: '{}', headers: {Authorization: `Bearer ${token}`}});
			expect(ok.status).toBe(200);
			expect(ok.json).toContain('error_count');
		} finally {
			await stop(s);
		}
	});
});

describe('Grafana in the browser: CORS preflight only when configured', () => {
	it('answers the preflight of /query with the origin, methods and headers a browser needs', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'logmon-grafana-cors-'));
		const config = path.join(dir, 'config.json');
		writeFileSync(config, JSON.stringify({http: {cors: ['https://grafana.example']}}));
		const s = await serve(['--config', config]);
		try {
			const preflight = await request(`${s.base}/api/v1/grafana/query`, {method: 'OPTIONS', headers: {Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type'}});
			expect(preflight.status).toBe(204);
			expect(preflight.headers['access-control-allow-origin']).toBe('https://grafana.example');
			expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);
			expect(preflight.headers['access-control-allow-headers']).toMatch(/accept/);
			expect(preflight.headers['access-control-allow-headers']).toMatch(/content-type/);
			const answer = await request(`${s.base}/api/v1/grafana/search`, {method: 'POST', headers: {Origin: 'https://grafana.example'}, body: '{}'});
			expect(answer.headers['access-control-allow-origin']).toBe('https://grafana.example');
		} finally {
			await stop(s);
			rmSync(dir, {recursive: true, force: true});
		}

		const plain = await serve();
		try {
			const preflight = await request(`${plain.base}/api/v1/grafana/query`, {method: 'OPTIONS', headers: {Origin: 'https://grafana.example', 'Access-Control-Request-Method': 'POST'}});
			expect(preflight.status).toBe(405);
			expect(Object.keys(preflight.headers).filter(h => h.startsWith('access-control'))).toEqual([]);
		} finally {
			await stop(plain);
		}
	});
});

import {describe, expect, it} from 'vitest';
import {isLoopback, parseListen} from '../../source/http/address.js';
import {tokenCheck} from '../../source/http/auth.js';
import {compareKeys, parseEventId} from '../../source/http/event-id.js';

describe('HTTP addresses, tokens and event ids', () => {
	it('[HOST:]PORT', () => {
		expect(parseListen('5004')).toEqual({host: '127.0.0.1', port: 5004});
		expect(parseListen(':5004')).toEqual({host: '127.0.0.1', port: 5004});
		expect(parseListen('0.0.0.0:80')).toEqual({host: '0.0.0.0', port: 80});
		expect(parseListen('[::1]:5004')).toEqual({host: '::1', port: 5004});
		expect(parseListen('localhost:0')).toEqual({host: 'localhost', port: 0});
		for (const bad of ['', 'host', '70000', '[nope]:1', 'a:b:1', '::1:5004']) {
			expect(parseListen(bad), bad).toBeUndefined();
		}
	});

	it('loopback: 127/8, ::1, localhost; nothing else', () => {
		for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST']) {
			expect(isLoopback(host), host).toBe(true);
		}

		for (const host of ['0.0.0.0', '::', '10.0.0.1', 'logs.example', '128.0.0.1']) {
			expect(isLoopback(host), host).toBe(false);
		}
	});

	it('the bearer token: exact, any length sent, Bearer only', () => {
		const check = tokenCheck('0123456789abcdef');
		expect(check('Bearer 0123456789abcdef')).toBe(true);
		expect(check('bearer 0123456789abcdef')).toBe(true);
		for (const bad of [undefined, '', 'Bearer', 'Bearer 0123456789abcde', 'Bearer 0123456789abcdef0', 'Basic 0123456789abcdef', 'Bearer 0123456789abcdef extra']) {
			expect(check(bad), String(bad)).toBe(false);
		}

		expect(tokenCheck(undefined)(undefined)).toBe(true);
	});

	it('event ids order by receive time, then seq (a restart starts seq again)', () => {
		expect(parseEventId('1733040000000-42')).toEqual({receivedAt: 1_733_040_000_000, seq: 42});
		expect(parseEventId('42')).toBeUndefined();
		expect(compareKeys({receivedAt: 2, seq: 1}, {receivedAt: 1, seq: 900})).toBeGreaterThan(0);
		expect(compareKeys({receivedAt: 1, seq: 2}, {receivedAt: 1, seq: 3})).toBeLessThan(0);
	});
});

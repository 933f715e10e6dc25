import {expect, test} from 'vitest';
import {isRotationOf, serviceOfFile, unrotatedName} from '../../source/sources/file-names.js';

test('the service is the base name without extension or rotation suffix', () => {
	expect(serviceOfFile('/var/log/nginx/access.log')).toBe('access');
	expect(serviceOfFile('/var/log/nginx/access.log.1')).toBe('access');
	expect(serviceOfFile('/var/log/nginx/error.log.2.gz')).toBe('error');
	expect(serviceOfFile('/var/log/app.log-20260501.gz')).toBe('app');
	expect(serviceOfFile('/var/log/syslog.3')).toBe('syslog');
	expect(serviceOfFile('/var/log/syslog')).toBe('syslog');
	expect(serviceOfFile('/srv/.hidden.log')).toBe('.hidden');
});

test('rotations of a name, and names that are not', () => {
	expect(unrotatedName('app.log.2024-05-01')).toBe('app.log');
	expect(isRotationOf('app.log.1', 'app.log')).toBe(true);
	expect(isRotationOf('app.log-20260501', 'app.log')).toBe(true);
	expect(isRotationOf('app.log.old', 'app.log')).toBe(true);
	expect(isRotationOf('app.log', 'app.log')).toBe(false);
	expect(isRotationOf('app.log.bak.txt', 'app.log')).toBe(false);
	expect(isRotationOf('app.logger', 'app.log')).toBe(false);
	expect(isRotationOf('other.log.1', 'app.log')).toBe(false);
});

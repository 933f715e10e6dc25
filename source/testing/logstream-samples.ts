// What the test logstream deployment holds and says: its log types and
// backend servers, the `disp_time` format, and plausible lines of each type
// (for the tests, the benchmark and `--demo`).

/** Display names of the known log types, as the servers announce them. */
export const logTypeNames: Readonly<Record<string, string>> = {
	'apache-request': 'Apache request',
	'apache-error': 'Apache error',
	'php-error': 'PHP error',
	'drupal-request': 'Drupal request',
	'drupal-watchdog': 'Drupal watchdog',
	'varnish-request': 'Varnish request',
	'bal-request': 'Balancer request',
	'mysql-slow': 'MySQL slow query',
};

export type BackendSpec = {name: string; types: string[]};

const webTypes = ['apache-request', 'apache-error', 'php-error', 'drupal-request', 'drupal-watchdog', 'mysql-slow'];

export const defaultBackends: BackendSpec[] = [
	{name: 'bal-1', types: ['bal-request', 'varnish-request']},
	{name: 'web-1', types: webTypes},
	{name: 'web-2', types: webTypes},
];

function pad(n: number): string {
	return String(n).padStart(2, '0');
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, no zone: the `disp_time` format. */
export function dispTime(ms: number): string {
	const d = new Date(ms);
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function clf(ms: number): string {
	const d = new Date(ms);
	return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const paths = ['/', '/node/12', '/user/login', '/search?q=drupal', '/sites/default/files/logo.png', '/api/v1/items', '/admin/content', '/cart'];
const statuses = [200, 200, 200, 200, 200, 304, 301, 404, 403, 500, 503];

/** A plausible line of the given type, varied by `i`; with its HTTP status for request types. */
export function sampleLine(type: string, server: string, i: number, time = Date.now()): {text: string; httpStatus?: number} {
	const path = paths[i % paths.length]!;
	const status = statuses[i % statuses.length]!;
	const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
	const rid = `v-${(0x1_00_00_00 + i).toString(16)}-0615-11e4-9fd8-1231392c7b9c`;
	switch (type) {
		case 'apache-request': {
			return {
				text: `${ip} - - [${clf(time)}] "GET ${path} HTTP/1.1" ${status} ${1000 + (i % 9000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" vhost=site.example.com host=site.example.com hosting_site=mysite pid=${6000 + (i % 999)} request_time=${8000 + (i % 90_000)} request_id="${rid}"`,
				httpStatus: status,
			};
		}

		case 'bal-request': {
			return {
				text: `${ip} - - [${clf(time)}] "GET ${path} HTTP/1.1" ${status} ${1000 + (i % 9000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" upstream=web-${1 + (i % 2)} request_time=${(0.001 * (1 + (i % 900))).toFixed(3)}`,
				httpStatus: status,
			};
		}

		case 'varnish-request': {
			return {
				text: JSON.stringify({
					time: `[${clf(time)}]`, status: String(status), bytes: String(512 + (i % 4096)), method: 'GET', host: 'site.example.com',
					url: path.split('?')[0], query: path.includes('?') ? '?' + path.split('?')[1] : '', referrer: '-', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
					client_ip: ip, time_firstbyte: (0.001 * (1 + (i % 500))).toFixed(6), hitmiss: i % 3 === 0 ? 'miss' : 'hit', handling: i % 3 === 0 ? 'miss' : 'hit',
					forwarded_for: ip, request_id: rid, ah_log: server, ah_application_id: '9b5e7a1c', ah_environment: 'prod', ah_trace_id: rid,
				}),
				httpStatus: status,
			};
		}

		case 'php-error': {
			const kinds = ['PHP Warning:  Undefined array key "id"', 'PHP Notice:  Trying to access array offset on value of type null', 'PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted', 'PHP Deprecated:  Function create_function() is deprecated'];
			return {text: `[${clf(time)}] ${kinds[i % kinds.length]} in /var/www/html/modules/custom/shop/shop.module on line ${10 + (i % 400)} request_id="${rid}"`};
		}

		case 'drupal-watchdog': {
			const severities = ['INFO', 'NOTICE', 'WARNING', 'ERROR'];
			const d = new Date(time);
			return {text: `${months[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${server} mysite[${17_000 + (i % 900)}]: https://site.example.com|${Math.floor(time / 1000)}|php|${severities[i % severities.length]}|${ip}|https://site.example.com${path}||0||Message number ${i}`};
		}

		default: {
			return {text: `${type} line ${i} on ${server}`};
		}
	}
}

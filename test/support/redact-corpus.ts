// Lines carrying each kind of secret the default redaction rules catch, in plain text, logfmt and
// as JSON records, and near-misses that must come through untouched. Shared by the redaction
// tests (every destination) and the redaction benchmark. All secrets are fakes: AWS's documented
// example keys, test card numbers, made-up tokens.

export type SecretCase = {
	/** The rule that must fire. */
	rule: string;
	/** The text that must not appear anywhere after redaction. */
	secret: string;
	plain: string;
	logfmt: string;
	json: Record<string, unknown>;
};

const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const githubToken = 'ghp_R2d2C3poX9y8W7v6U5t4S3r2Q1p0O9n8M7l6';
const gitlabToken = 'glpat-Zq8Xw7Vv6Uu5Tt4Ss3Rr';
const slackToken = 'xoxb-2048637921-4096273842-Kd8sWq2LmN5pX7rT9vB1cZ3a';
const keyBody = 'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit';

export const secretCases: SecretCase[] = [
	{
		rule: 'aws-key',
		secret: 'AKIAIOSFODNN7EXAMPLE',
		plain: 'uploading report.csv with access key AKIAIOSFODNN7EXAMPLE to s3://reports',
		logfmt: 'level=info msg="s3 upload" aws_access_key_id=AKIAIOSFODNN7EXAMPLE bucket=reports',
		json: {level: 'info', message: 's3 upload', aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE'},
	},
	{
		rule: 'aws-secret',
		secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
		plain: 'loaded credentials: aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY from profile',
		logfmt: 'level=debug msg="credentials" aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
		json: {level: 'debug', message: 'assumed role', credentials: {SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}},
	},
	{
		rule: 'authorization',
		secret: 'dXNlcjpwYXNzd29yZA==',
		plain: 'GET /admin HTTP/1.1 Authorization: Basic dXNlcjpwYXNzd29yZA== 401',
		logfmt: 'level=warn msg="denied" authorization="Basic dXNlcjpwYXNzd29yZA==" status=401',
		json: {level: 'warn', message: 'denied', headers: {Authorization: 'Basic dXNlcjpwYXNzd29yZA=='}},
	},
	{
		rule: 'bearer',
		secret: 'mF_9.B5f-4.1JqM',
		plain: 'calling billing api with Bearer mF_9.B5f-4.1JqM failed: timeout',
		logfmt: 'level=error msg="upstream call failed" token="Bearer mF_9.B5f-4.1JqM"',
		json: {level: 'error', message: 'refresh failed for bearer mF_9.B5f-4.1JqM'},
	},
	{
		rule: 'jwt',
		secret: jwt,
		plain: `session restored from cookie ${jwt} for user 42`,
		logfmt: `level=info msg="session" jwt=${jwt}`,
		json: {level: 'info', message: 'session', session: jwt},
	},
	{
		rule: 'github-token',
		secret: githubToken,
		plain: `cloning with token ${githubToken} from github.com/acme/app`,
		logfmt: `level=info msg="git clone" token=${githubToken}`,
		json: {level: 'info', message: `git clone with ${githubToken}`},
	},
	{
		rule: 'gitlab-token',
		secret: gitlabToken,
		plain: `registry login using ${gitlabToken} succeeded`,
		logfmt: `level=info msg="registry login" gitlab_token=${gitlabToken}`,
		json: {level: 'info', message: 'registry login', token: gitlabToken},
	},
	{
		rule: 'slack-token',
		secret: slackToken,
		plain: `posting alert to #ops with ${slackToken}`,
		logfmt: `level=info msg="slack post" slack_token=${slackToken}`,
		json: {level: 'info', message: 'slack post', auth: slackToken},
	},
	{
		rule: 'private-key',
		secret: keyBody,
		plain: `loaded key -----BEGIN RSA PRIVATE KEY-----${keyBody}-----END RSA PRIVATE KEY----- from vault`,
		logfmt: `level=debug msg="tls key" key="-----BEGIN PRIVATE KEY-----${keyBody}-----END PRIVATE KEY-----"`,
		json: {level: 'debug', message: 'tls key', key: `-----BEGIN EC PRIVATE KEY-----\n${keyBody}\n-----END EC PRIVATE KEY-----\n`},
	},
	{
		rule: 'url-password',
		secret: 's3cr3t-Pa55',
		plain: 'connecting to postgres://app:s3cr3t-Pa55@db.internal:5432/orders',
		logfmt: 'level=info msg="db connect" dsn="postgres://app:s3cr3t-Pa55@db.internal:5432/orders"',
		json: {level: 'info', message: 'db connect', dsn: 'postgres://app:s3cr3t-Pa55@db.internal:5432/orders'},
	},
	{
		rule: 'password',
		secret: 'hunter2-Xy9',
		plain: 'login attempt user=bob password=hunter2-Xy9 result=ok',
		logfmt: 'level=info msg="login" user=bob password="hunter2-Xy9"',
		json: {level: 'info', message: 'login', user: 'bob', password: 'hunter2-Xy9'},
	},
	{
		rule: 'card',
		secret: '4111 1111 1111 1111',
		plain: 'payment accepted for card 4111 1111 1111 1111 amount=12.50',
		logfmt: 'level=info msg="payment" card="4111 1111 1111 1111" amount=12.50',
		json: {level: 'info', message: 'payment', card: '4111 1111 1111 1111'},
	},
	{
		rule: 'card',
		secret: '5555555555554444',
		plain: 'refund to 5555555555554444 queued',
		logfmt: 'level=info msg="refund" pan=5555555555554444',
		json: {level: 'info', message: 'refund', pan: 5_555_555_555_554_444},
	},
	{
		rule: 'card',
		secret: '3782-822463-10005',
		plain: 'amex 3782-822463-10005 declined',
		logfmt: 'level=warn msg="declined" card=3782-822463-10005',
		json: {level: 'warn', message: 'card 3782-822463-10005 declined'},
	},
];

/** Things that look a little like secrets and must not be touched. */
export const nearMisses: Array<{what: string; keep: string; line: string}> = [
	{what: 'a 16-digit order number that fails the Luhn check', keep: '4111111111111112', line: 'order 4111111111111112 shipped to warehouse 3'},
	{what: 'a 16-digit id no card network issues', keep: '1234567812345678', line: 'order id 1234567812345678 created'},
	{what: 'a UUID', keep: '123e4567-e89b-12d3-a456-426614174000', line: 'request 123e4567-e89b-12d3-a456-426614174000 done in 12 ms'},
	{what: 'a hex request id', keep: '4bf92f3577b34da6a3ce929d0e0e4736', line: 'trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7'},
	{what: 'a git commit hash', keep: 'e83c5163316f89bfbde7d9ab23ca2e25604af290', line: 'deployed commit e83c5163316f89bfbde7d9ab23ca2e25604af290 to prod'},
	{what: 'a 64-bit block id', keep: 'blk_-4393063808227796056', line: '081109 204106 329 INFO dfs.DataNode$PacketResponder: Received block blk_-4393063808227796056 of size 67108864'},
	{what: 'a time in milliseconds', keep: '1700000000123', line: 'checkpoint at 1700000000123 took 5 ms'},
	{what: 'an SSH failure that says password', keep: 'Failed password for root from 10.0.0.1 port 22 ssh2', line: 'sshd[2411]: Failed password for root from 10.0.0.1 port 22 ssh2'},
	{what: 'prose about bearer tokens', keep: 'missing bearer credentials', line: 'auth: missing bearer credentials in request'},
	{what: 'a URL without a password', keep: 'https://api.example.com:8443/v1/orders', line: 'GET https://api.example.com:8443/v1/orders 200'},
	{what: 'an e-mail address (off by default)', keep: 'ops@example.com', line: 'mail sent to ops@example.com'},
];

/** One line of a secret case in a given form. */
export function caseLine(c: SecretCase, form: 'plain' | 'logfmt' | 'json'): string {
	return form === 'json' ? JSON.stringify(c.json) : c[form];
}

/** Every secret line in every form, then every near-miss. */
export function corpusLines(): string[] {
	const forms = ['plain', 'logfmt', 'json'] as const;
	return [...forms.flatMap(f => secretCases.map(c => caseLine(c, f))), ...nearMisses.map(n => n.line)];
}

import {scanEmails, scanIpv4, scanIpv6} from './redact-addresses.js';
import {cardMarkSource, scanCards} from './redact-cards.js';
import {type Find, type Hits, isAlnum, isPlaceholder} from './redact-scan.js';

// The built-in redaction rules: what each finds, and why it cannot take more than linear time.
//
// Most rules start from a short literal mark (`AKIA`, `eyJ`, `ghp_`, `//`, a key name): one regex
// of all the enabled marks scans a text once (core/redact-text.ts), and only where it stops does a
// rule look further, with a sticky regex or a few lines of code. Cards, e-mail and IP addresses find
// their own marks (core/redact-cards.ts, core/redact-addresses.ts). Plain lines cost one scan each.
//
// That scan is most of what redaction costs on ordinary lines. V8's engine steps over a character
// no mark starts with at little cost, and tries the marks one by one where one may start; so the
// scan is grouped by first character, and a mark starts at a character rare in logs: it may be the
// tail of what the rule looks for (`zation` for `authorization`, `yJ` for `eyJ`, `//` for `://`,
// `key` for `secret_key`), and the rule's `find` steps back over the `lead` it knows, or looks back
// with a bounded lookbehind.
//
// Linear time, rule by rule: a mark has a bounded length. A sticky regex either has bounded
// quantifiers only, or one unbounded run of a class that the literal after it is not in (nothing to
// backtrack into but that run); where such a run could hold another mark of the same rule, a
// lookbehind refuses to start inside the run. Code matchers read forward over a region that the next
// mark of the same rule cannot start inside, or a bounded distance, and say where the scan may
// resume. So each character is looked at a bounded number of times (test/core/redact-linear.test.ts).

export {Hits, isPlaceholder, placeholder} from './redact-scan.js';

export type BuiltinRule = {
	readonly name: string;
	readonly onByDefault: boolean;
	/** What it catches, for the README and `--help`. */
	readonly what: string;
	/** Keys of a JSON record whose whole value this rule replaces (lower case, without _ - .). */
	readonly keys?: (key: string) => boolean;
} & ({
	/**
	 * Regex sources of the marks it starts from: bounded length, no captures, each starting with a
	 * plain character (not a class or an escape). A rule is asked where any mark starting with the
	 * same character matches.
	 */
	readonly marks: readonly string[];
	/**
	 * Where every match has `=` or `:` at most this many characters past the end of its mark, with
	 * only ASCII between: the WebAssembly screen (core/redact-screen.ts) passes over marks without one.
	 */
	readonly separatorWithin?: number;
	/**
	 * At a mark starting at `at` (past the lead the rule left out of its mark): add what it finds to
	 * `hits`, and return where this rule may look again (at least at + 1; past a span it added, or
	 * past what it read).
	 */
	find(text: string, at: number, hits: Hits): number;
} | {
	/** A rule that finds its own marks (digits, @): adds every span in the text to `hits`. */
	scan(text: string, hits: Hits): void;
	/**
	 * V8 source (no flags) of the marks `scan` starts from: in a text where it matches nowhere, `scan`
	 * finds nothing, so another scan may look for it instead (core/redact-text.ts).
	 */
	readonly mark?: string;
});


/**
 * A rule whose whole match, or its last capture (which must end the match), is the secret; it starts
 * `lead` characters before its mark.
 */
function sticky(source: string, flags = '', lead = 0): Find {
	const re = new RegExp(source, flags + 'y');
	return (text, at, hits) => {
		if (at < lead) {
			return at + 1;
		}

		re.lastIndex = at - lead;
		const m = re.exec(text);
		const value = m ? (m.length > 1 ? m.at(-1) ?? '' : m[0]) : '';
		if (!m || value.length === 0) {
			return at + 1;
		}

		const end = m.index + m[0].length;
		hits.add(end - value.length, end);
		return end;
	};
}

// key = value, "key": value, 'key': value, and JSON quoted inside a string (\"key\": \"value\").
// The value is a quoted string (which always ends: at its closing quote or where the text does,
// so a key inside it cannot start a second scan of the same text) or a bare word; up to 1,024
// characters.
const valueTail = String.raw`(?:\\?(["'])[ \t]{0,16}[:=]|[ \t]{0,16}=)[ \t]{0,16}(?:"((?:[^"\\\n]|\\.){0,1024})"?|'([^'\n]{0,1024})'?|\\"([^"\\\n]{0,1024})(?:\\")?|([^\s"',;&}\]]{1,1024}))`;

/** The group of valueTail that holds a bare value. */
const bare = 5;

function keyValue(key: string): Find {
	// Most marks are words like "Failed password for": a cheap look for the separator first.
	const separator = new RegExp(key + String.raw`(?:\\?["']?[ \t]{0,16}=|\\?["'][ \t]{0,16}:)`, 'iy');
	const re = new RegExp(key + valueTail, 'iyd');
	return (text, at, hits) => {
		separator.lastIndex = at;
		if (!separator.test(text)) {
			return at + 1;
		}

		re.lastIndex = at;
		const m = re.exec(text);
		if (!m?.indices) {
			return at + 1;
		}

		const group = m[2] === undefined ? (m[3] === undefined ? (m[4] === undefined ? bare : 4) : 3) : 2;
		const value = m[group] ?? '';
		const [start, end] = m.indices[group] ?? [0, 0];
		// After a quoted key, a bare `[` or `{` opens a JSON array or object: its strings are found one by one.
		if (value.length === 0 || (group === bare && (/^(?:null|true|false)$/.test(value) || (m[1] !== undefined && /^[[{]/.test(value)))) || isPlaceholder(value)) {
			return at + 1;
		}

		// A bare value after a quoted key is JSON's number: the replacement keeps the JSON a JSON.
		hits.add(start, end, group === bare && m[1] !== undefined);
		return m.index + m[0].length;
	};
}

function normalKey(key: string): string {
	return key.toLowerCase().replaceAll(/[-_.]/g, '');
}

// --- private key blocks ---

const keyBegin = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;
const keyEnd = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/y;

/** The end of the first END line of a private key at or after `from`, or -1. */
export function privateKeyEnd(text: string, from: number): number {
	let k = text.indexOf('-----END', from);
	while (k !== -1) {
		keyEnd.lastIndex = k;
		if (keyEnd.exec(text)) {
			return keyEnd.lastIndex;
		}

		k = text.indexOf('-----END', k + 1);
	}

	return -1;
}

/** At `BEGIN`, the mark of a private key block (its five dashes are the lead). */
function findPrivateKey(text: string, at: number, hits: Hits): number {
	const start = at - 5;
	if (start < 0) {
		return at + 1;
	}

	keyBegin.lastIndex = start;
	if (!keyBegin.exec(text)) {
		return at + 1;
	}

	const end = privateKeyEnd(text, keyBegin.lastIndex);
	if (end === -1) {
		hits.open = true;
	}

	hits.add(start, end === -1 ? text.length : end);
	return end === -1 ? text.length : end;
}

/** A line inside a PEM block: base64, a header such as Proc-Type, or blank. */
export function privateKeyBody(line: string): boolean {
	return line.length <= 200 && /^\s*(?:[A-Za-z0-9+/=]*|[A-Za-z-]{1,40}: .{0,120})\s*$/.test(line);
}

// --- passwords in URLs: scheme://user:password@host ---

/** At `//`, the mark of `://` (its colon is the lead). */
function findUrlPassword(text: string, slashes: number, hits: Hits): number {
	const at = slashes - 1;
	if (at < 0 || text.charCodeAt(at) !== 0x3A) {
		return slashes + 1;
	}

	// The authority ends at the path, query, fragment, a quote or a space. That end is before the
	// next `://`, so no two authorities overlap.
	const from = at + 3;
	let end = from;
	let lastAt = -1;
	for (; end < text.length; end++) {
		const c = text.charCodeAt(end);
		if (c <= 0x20 || c === 0x2F || c === 0x3F || c === 0x23 || c === 0x22 || c === 0x27 || c === 0x3C || c === 0x3E || c === 0x5C || c === 0x60) {
			break;
		}

		if (c === 0x40) {
			lastAt = end; // the last @ ends the user info: a password may hold an unescaped @
		}
	}

	const colon = lastAt === -1 ? -1 : text.indexOf(':', from);
	if (at > 0 && isAlnum(text.charCodeAt(at - 1)) && colon !== -1 && colon < lastAt - 1 && !isPlaceholder(text.slice(colon + 1, lastAt))) {
		hits.add(colon + 1, lastAt);
	}

	return Math.max(end, slashes + 1);
}

// --- AWS secret keys: secret_access_key=…, "SecretAccessKey": "…" ---

// At `key`: the name before it is read by a lookbehind of at most 20 characters.
const awsSecret = /(?<=(secret)[_-]?(?:access[_-]?)?)key\\?["']?[ \t]{0,16}[:=][ \t]{0,16}(?:\\?["'])?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/iy;

function findAwsSecret(text: string, at: number, hits: Hits): number {
	awsSecret.lastIndex = at;
	const m = awsSecret.exec(text);
	// `secret` in any case, as long as its last four letters are all lower or all upper case.
	if (!m || !/cret|CRET/.test(m[1]!)) {
		return at + 1;
	}

	const end = m.index + m[0].length;
	hits.add(end - 40, end);
	return end;
}

// --- the rules, in the order they are tried at one position ---

const secretKeys = (key: string) => /secret(?:access)?key$/.test(key);
const passwordKeys = (key: string) => /(?:password|passwd|passphrase)$|^(?:pass|pwd)$/.test(key);

export const builtinRules: readonly BuiltinRule[] = [
	{
		name: 'aws-key',
		onByDefault: true,
		what: 'AWS access key ids (AKIA…, ASIA…)',
		marks: ['A(?:KIA|SIA|BIA|CCA|3T)'],
		find: sticky('(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])'),
	},
	{
		name: 'aws-secret',
		onByDefault: true,
		what: 'AWS secret access keys after aws_secret_access_key= or "SecretAccessKey":',
		marks: ['k[Ee][Yy]', 'K[Ee][Yy]'],
		keys: secretKeys,
		find: findAwsSecret,
	},
	{
		name: 'authorization',
		onByDefault: true,
		what: 'Authorization header values (the scheme is kept)',
		marks: ['zation', 'ZATION'],
		keys: key => key.endsWith('authorization'),
		find: sticky(String.raw`authorization\\?["']?[ \t]{0,16}[:=][ \t]{0,16}(?:\\?["'])?(?:[A-Za-z][\w-]{0,30}[ \t]+)?((?:[^\s"',;\\]|\\(?!["'])){1,4096})`, 'i', 7),
	},
	{
		name: 'bearer',
		onByDefault: true,
		what: 'bearer tokens (Bearer <token>)',
		marks: ['B(?:earer|EARER)', 'b(?:earer|EARER)'],
		find(text, at, hits) {
			bearer.lastIndex = at;
			const m = bearer.exec(text);
			const token = m?.[1];
			// "bearer credentials" is prose; tokens have digits or punctuation.
			if (!m || !token || !/[\d._~+/-]/.test(token)) {
				return at + 1;
			}

			const end = m.index + m[0].length;
			hits.add(end - token.length, end);
			return end;
		},
	},
	{
		name: 'jwt',
		onByDefault: true,
		what: 'JSON Web Tokens (eyJ….eyJ….…)',
		marks: ['yJ'],
		find: sticky(String.raw`(?<![\w-])eyJ[\w-]{4,}\.ey[\w-]{4,}\.[\w-]*`, '', 1),
	},
	{
		name: 'github-token',
		onByDefault: true,
		what: 'GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)',
		marks: ['gh[pousr]_', 'github_pat_'],
		find: sticky(String.raw`gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255}`),
	},
	{
		name: 'gitlab-token',
		onByDefault: true,
		what: 'GitLab tokens (glpat-, gldt-, glrt-, glptt-, glft-, glimt-, glcbt-, glsoat-, glagent-, gloas-)',
		marks: ['gl(?:pat|dt|rt|ptt|ft|imt|cbt|soat|agent|oas)-'],
		find: sticky(String.raw`gl(?:pat|dt|rt|ptt|ft|imt|cbt|soat|agent|oas)-[\w-]{20,255}`),
	},
	{
		name: 'slack-token',
		onByDefault: true,
		what: 'Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xoxs-, xoxo-, xapp-) and webhook URLs',
		marks: ['x(?:ox[abeoprs]|app)-', String.raw`ks\.slack\.com\/`],
		find: slackFind,
	},
	{
		name: 'private-key',
		onByDefault: true,
		what: 'private key blocks (-----BEGIN … PRIVATE KEY----- to -----END … PRIVATE KEY-----, also over several lines)',
		marks: ['BEGIN'],
		find: findPrivateKey,
	},
	{
		name: 'url-password',
		onByDefault: true,
		what: 'passwords in URLs (scheme://user:password@host)',
		marks: ['//'],
		find: findUrlPassword,
	},
	{
		name: 'password',
		onByDefault: true,
		what: 'password=…, "password": "…" (also passwd, passphrase, pass, pwd)',
		marks: ['P(?:ass|wd|ASS|WD)', 'p(?:ass|wd|ASS|WD)'],
		// "pass" may go on as "phrase" (6), then a backslash, a quote and 16 blanks before the separator:
		// "Failed password for root" or "check pass; user unknown" needs no look.
		separatorWithin: 24,
		keys: passwordKeys,
		find: keyValue('(?:password|passwd|passphrase|(?<![a-z0-9])pass|(?<![a-z0-9])pwd)'),
	},
	{
		name: 'card',
		onByDefault: true,
		what: 'payment card numbers: 13-16 digits, or 13-19 in groups as printed on cards, of a card network, passing the Luhn check',
		scan: scanCards,
		mark: cardMarkSource,
	},
	{
		name: 'email',
		onByDefault: false,
		what: 'e-mail addresses',
		scan: scanEmails,
	},
	{
		name: 'ipv4',
		onByDefault: false,
		what: 'IPv4 addresses',
		scan: scanIpv4,
	},
	{
		name: 'ipv6',
		onByDefault: false,
		what: 'IPv6 addresses',
		scan: scanIpv6,
	},
];

const bearer = /(?<![A-Za-z0-9])bearer[ \t]+([\w.~+/-]{8,4096}=*)/iy;

const slackToken = sticky(String.raw`xox[abeoprs]-[A-Za-z0-9-]{10,255}|xapp-\d-[A-Za-z0-9-]{10,255}`);
const slackHook = sticky(String.raw`hooks\.slack\.com\/(?:services|workflows|triggers)\/[\w/+-]{16,255}`, '', 3);

/** Slack tokens start at their mark; a webhook URL three characters before it (`hoo` of `hooks.`). */
function slackFind(text: string, at: number, hits: Hits): number {
	return text.charCodeAt(at) === 0x6B ? slackHook(text, at, hits) : slackToken(text, at, hits);
}

/** Names a user may write for groups of rules. */
export const ruleAliases: Readonly<Record<string, readonly string[]>> = {
	ip: ['ipv4', 'ipv6'],
	default: builtinRules.filter(r => r.onByDefault).map(r => r.name),
};

/** The built-in rule that owns a record key, by its normal form; undefined for most keys. */
export function keyRule(key: string, enabled: ReadonlySet<string>): string | undefined {
	const k = normalKey(key);
	for (const r of builtinRules) {
		if (r.keys && enabled.has(r.name) && r.keys(k)) {
			return r.name;
		}
	}

	return undefined;
}

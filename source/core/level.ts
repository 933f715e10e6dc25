import {type Level} from './event.js';

// Level detection, in order of trust (the README has the table):
//   1. a structured field (level, levelname, severity; names or numbers)
//   2. the HTTP status (5xx ERROR, 4xx WARN)
//   3. the text of common formats (first level token in the line head)
//   4. the log type (php-error, apache-error => ERROR)
//   5. otherwise INFO

const names: Record<string, Level> = {
	trace: 'TRACE',
	finest: 'TRACE',
	finer: 'TRACE',
	debug: 'DEBUG',
	fine: 'DEBUG',
	dbg: 'DEBUG',
	info: 'INFO',
	information: 'INFO',
	informational: 'INFO',
	config: 'INFO',
	notice: 'NOTICE',
	warn: 'WARN',
	warning: 'WARN',
	error: 'ERROR',
	err: 'ERROR',
	severe: 'ERROR',
	fatal: 'CRITICAL',
	critical: 'CRITICAL',
	crit: 'CRITICAL',
	alert: 'CRITICAL',
	emerg: 'CRITICAL',
	emergency: 'CRITICAL',
	panic: 'CRITICAL',
};

const exactNames = new Map<string, Level>(Object.entries(names).flatMap(([name, level]) => [[name, level], [name.toUpperCase(), level]]));

// Syslog severities 0-7 (RFC 5424).
const syslog: Level[] = ['CRITICAL', 'CRITICAL', 'CRITICAL', 'ERROR', 'WARN', 'NOTICE', 'INFO', 'DEBUG'];

/** A level from a structured field value: a name ("warn", "ERROR") or a number. */
export function levelFromField(value: unknown): Level | undefined {
	if (typeof value === 'string') {
		// Most records spell the level exactly like one of ours ("ERROR"): no copies needed.
		const exact = exactNames.get(value);
		if (exact) {
			return exact;
		}

		const named = exactNames.get(value.trim().toLowerCase());
		if (named) {
			return named;
		}

		if (/^\d+$/.test(value.trim())) {
			return levelFromNumber(Number(value));
		}

		return undefined;
	}

	if (typeof value === 'number') {
		return levelFromNumber(value);
	}

	return undefined;
}

/** 0-7: syslog severity. 10-60: Python logging / pino style (10 DEBUG ... 50 CRITICAL, 60 fatal). */
export function levelFromNumber(n: number): Level | undefined {
	if (!Number.isInteger(n) || n < 0) {
		return undefined;
	}

	if (n <= 7) {
		return syslog[n];
	}

	if (n < 10) {
		return undefined;
	}

	if (n < 20) {
		return 'DEBUG';
	}

	if (n < 30) {
		return 'INFO';
	}

	if (n < 40) {
		return 'WARN';
	}

	if (n < 50) {
		return 'ERROR';
	}

	return 'CRITICAL';
}

export function levelFromStatus(status: number | undefined): Level | undefined {
	if (status === undefined) {
		return undefined;
	}

	if (status >= 500 && status <= 599) {
		return 'ERROR';
	}

	if (status >= 400 && status <= 499) {
		return 'WARN';
	}

	return undefined;
}

export function levelFromType(type: string): Level | undefined {
	return type === 'php-error' || type === 'apache-error' ? 'ERROR' : undefined;
}

// One pass over the head of the line; the first token found wins, so
// "INFO ... parity error corrected" is INFO, not ERROR.
//   [error] [warn] [notice]          Apache error log
//   |ERROR| |WARNING|                Drupal watchdog severity field
//   level=error  lvl=warn            logfmt
//   ERROR WARN FATAL ... (uppercase words)  Java, Python, Log4j, syslog-ng, BGL
//   PHP Fatal error / PHP Warning    PHP error log
//   E0102 15:04:05.000  W0102 ...    Go glog/klog prefix
// No capture groups: a match without them allocates only its text, and which alternative matched
// is told by that text's first characters (levelOfMatch). This runs for most lines of plain-text logs.
const textPattern = new RegExp(
	[
		String.raw`\[(?:trace|debug|info|notice|warn|warning|error|crit|critical|alert|emerg|fatal)\]`,
		String.raw`\|(?:DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY)\|`,
		String.raw`\b(?:level|lvl|severity)=["']?\w+`,
		String.raw`\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL|CRIT|ALERT|EMERG|PANIC)\b`,
		String.raw`\bPHP (?:Fatal error|Parse error|Warning|Notice|Deprecated|Strict Standards)`,
		String.raw`^[IWEF]\d{4} \d\d:\d\d:\d\d`,
	].join('|'),
);

const phpLevels: Record<string, Level> = {
	'Fatal error': 'CRITICAL',
	'Parse error': 'CRITICAL',
	Warning: 'WARN',
	Notice: 'NOTICE',
	Deprecated: 'NOTICE',
	'Strict Standards': 'NOTICE',
};

const glog: Record<string, Level> = {I: 'INFO', W: 'WARN', E: 'ERROR', F: 'CRITICAL'};

/** How far into a line to look for a level token: levels sit near the start. */
const headLength = 240;

/** The level a match of textPattern names, told apart by its first characters. */
function levelOfMatch(m: string): Level | undefined {
	const first = m.charCodeAt(0);
	if (first === 0x5B || first === 0x7C) { // [error] or |ERROR|
		return tokenLevel(m.slice(1, -1));
	}

	const eq = m.indexOf('=');
	if (eq >= 0) { // level=error, lvl='warn'
		const quote = m.charCodeAt(eq + 1);
		return tokenLevel(m.slice(quote === 0x22 || quote === 0x27 ? eq + 2 : eq + 1));
	}

	if (m.startsWith('PHP ')) {
		return phpLevels[m.slice(4)];
	}

	const second = m.charCodeAt(1);
	if (second >= 0x30 && second <= 0x39) { // E0102 15:04:05 (a level word holds no digit)
		return glog[m[0]!];
	}

	return tokenLevel(m);
}

/** Tokens are mostly spelt all upper or all lower case: a lookup without a lowered copy first. A Map, not `names`: `level=constructor` is no level. */
function tokenLevel(token: string): Level | undefined {
	return exactNames.get(token) ?? exactNames.get(token.toLowerCase());
}

export function levelFromText(text: string): Level | undefined {
	const m = textPattern.exec(text.length > headLength ? text.slice(0, headLength) : text);
	return m ? levelOfMatch(m[0]) : undefined;
}

export type LevelHints = {
	field?: unknown;
	status?: number | undefined;
	type?: string;
	text?: string;
};

export function detectLevel(hints: LevelHints): Level {
	return (
		levelFromField(hints.field)
		?? levelFromStatus(hints.status)
		?? (hints.text === undefined ? undefined : levelFromText(hints.text))
		?? levelFromType(hints.type ?? '')
		?? 'INFO'
	);
}

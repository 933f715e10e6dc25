import {type AlertNotice, describeGroup, noticeLine, statusWord} from './alert-notice.js';

// What each sink sends, from a batch of notices (usually one; more when a sink's rate
// limit or a slow peer held some back). Pure: the sinks in source/alerts/ do the I/O.

const zeroTime = '0001-01-01T00:00:00Z';

function iso(ms: number): string {
	return new Date(ms).toISOString();
}

/** Firing when any notice of the batch is firing, as Alertmanager groups do. */
function batchStatus(notices: readonly AlertNotice[]): 'firing' | 'resolved' {
	return notices.some(n => n.status === 'firing') ? 'firing' : 'resolved';
}

// ---- logmon's own body (webhook, format "logmon"; a command's stdin) ----

export function logmonAlert(n: AlertNotice): Record<string, unknown> {
	return {
		fingerprint: n.fingerprint,
		rule: n.rule,
		kind: n.kind,
		status: n.status,
		repeat: n.repeat,
		group: n.group,
		labels: n.labels,
		severity: n.severity,
		summary: n.summary,
		...(n.description ? {description: n.description} : {}),
		value: n.value,
		startsAt: iso(n.startsAt),
		...(n.endsAt === undefined ? {} : {endsAt: iso(n.endsAt)}),
		at: iso(n.at),
		...(n.sample ? {sample: {...n.sample, time: iso(n.sample.time), receivedAt: iso(n.sample.receivedAt)}} : {}),
	};
}

export function logmonBody(notices: readonly AlertNotice[], receiver: string): Record<string, unknown> {
	return {version: 'logmon/1', receiver, status: batchStatus(notices), alerts: notices.map(n => logmonAlert(n))};
}

// ---- Alertmanager ----

/** Alertmanager label names are [a-zA-Z_][a-zA-Z0-9_]*: a record field such as `user.id` becomes `user_id`. */
export function labelName(name: string): string {
	const s = name.replaceAll(/[^\w]/g, '_');
	return /^[a-z_]/i.test(s) ? s : `_${s}`;
}

/** alertname, the group's fields, severity, source, then the rule's labels. Empty values are left out. */
export function alertLabels(n: AlertNotice): Record<string, string> {
	const labels: Record<string, string> = {alertname: n.rule};
	for (const [k, v] of Object.entries(n.group)) {
		if (v !== '') {
			labels[labelName(k)] = v;
		}
	}

	labels['severity'] = n.severity;
	labels['source'] = 'logmon';
	for (const [k, v] of Object.entries(n.labels)) {
		if (v !== '') {
			labels[labelName(k)] = v;
		}
	}

	return labels;
}

export function alertAnnotations(n: AlertNotice): Record<string, string> {
	return {
		summary: n.summary,
		...(n.description ? {description: n.description} : {}),
		...(n.sample ? {sample: n.sample.message} : {}),
	};
}

/** The body Alertmanager's `/api/v2/alerts` takes (postableAlerts). `endsAt` only on resolve. */
export function alertmanagerApiBody(notices: readonly AlertNotice[], generatorURL?: string): Array<Record<string, unknown>> {
	return notices.map(n => ({
		labels: alertLabels(n),
		annotations: alertAnnotations(n),
		startsAt: iso(n.startsAt),
		...(n.endsAt === undefined ? {} : {endsAt: iso(n.endsAt)}),
		...(generatorURL ? {generatorURL} : {}),
	}));
}

function common(records: Array<Record<string, string>>): Record<string, string> {
	const [first, ...rest] = records;
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(first ?? {})) {
		if (rest.every(r => r[k] === v)) {
			out[k] = v;
		}
	}

	return out;
}

function labelSet(labels: Record<string, string>): string {
	return `{${Object.keys(labels).sort().map(k => `${k}=${JSON.stringify(labels[k])}`).join(', ')}}`;
}

/** Alertmanager's webhook body (version "4"), so a receiver written for Alertmanager takes logmon's notices as they are. */
export function alertmanagerWebhookBody(notices: readonly AlertNotice[], receiver: string, externalURL: string, generatorURL = ''): Record<string, unknown> {
	const labels = notices.map(n => alertLabels(n));
	const annotations = notices.map(n => alertAnnotations(n));
	const commonLabels = common(labels);
	const groupLabels: Record<string, string> = commonLabels['alertname'] === undefined ? {} : {alertname: commonLabels['alertname']};
	return {
		receiver,
		status: batchStatus(notices),
		alerts: notices.map((n, i) => ({
			status: n.status,
			labels: labels[i],
			annotations: annotations[i],
			startsAt: iso(n.startsAt),
			endsAt: n.endsAt === undefined ? zeroTime : iso(n.endsAt),
			generatorURL,
			fingerprint: n.fingerprint,
		})),
		groupLabels,
		commonLabels,
		commonAnnotations: common(annotations),
		externalURL,
		version: '4',
		groupKey: `{}:${labelSet(groupLabels)}`,
		truncatedAlerts: 0,
	};
}

// ---- Slack ----

/** Slack's mrkdwn reserves &, < and >; everything else is shown as typed. */
export function slackEscape(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const maxListed = 20;

/** An incoming-webhook message: `text` (the notification and fallback) and blocks. */
export function slackBody(notices: readonly AlertNotice[]): Record<string, unknown> {
	if (notices.length === 1) {
		const n = notices[0]!;
		const icon = n.status === 'resolved' ? ':white_check_mark:' : ':rotating_light:';
		const text = `${icon} ${slackEscape(noticeLine(n))}`;
		const blocks: Array<Record<string, unknown>> = [{type: 'section', text: {type: 'mrkdwn', text}}];
		if (n.sample && n.status === 'firing') {
			const where = [n.sample.service, n.sample.host].filter(Boolean).join(' on ');
			blocks.push({type: 'context', elements: [{type: 'mrkdwn', text: slackEscape(`${where ? where + ': ' : ''}${n.sample.message}`).slice(0, 2900)}]});
		}

		return {text, blocks};
	}

	const lines = notices.slice(0, maxListed).map(n => `• ${slackEscape(noticeLine(n))}`);
	if (notices.length > maxListed) {
		lines.push(`…and ${notices.length - maxListed} more`);
	}

	const text = `:bell: ${notices.length} alert notices (held back by the rate limit):\n${lines.join('\n')}`;
	return {text, blocks: [{type: 'section', text: {type: 'mrkdwn', text: text.slice(0, 2900)}}]};
}

// ---- email ----

export function emailMessage(notices: readonly AlertNotice[]): {subject: string; text: string} {
	const describe = (n: AlertNotice): string[] => {
		const lines = [
			noticeLine(n),
			`  rule:      ${n.rule} (${n.kind}, ${n.severity})`,
			...(describeGroup(n.group) ? [`  group:     ${describeGroup(n.group)}`] : []),
			`  status:    ${statusWord(n)}`,
			`  since:     ${iso(n.startsAt)}`,
			...(n.endsAt === undefined ? [] : [`  resolved:  ${iso(n.endsAt)}`]),
			...(n.description ? [`  about:     ${n.description}`] : []),
		];
		if (n.sample) {
			lines.push(`  sample:    ${iso(n.sample.time)} ${[n.sample.service, n.sample.host].filter(Boolean).join(' ')} ${n.sample.level}: ${n.sample.message}`);
		}

		return lines;
	};

	if (notices.length === 1) {
		const n = notices[0]!;
		return {subject: `[logmon] ${noticeLine(n)}`.slice(0, 200), text: describe(n).join('\n') + '\n'};
	}

	const firing = notices.filter(n => n.status === 'firing').length;
	return {
		subject: `[logmon] ${notices.length} alert notices (${firing} firing, ${notices.length - firing} resolved)`,
		text: notices.flatMap(n => [...describe(n), '']).join('\n'),
	};
}

// ---- command ----

/** Environment variable names for a group label: LOGMON_ALERT_LABEL_USER_ID for `user.id`. */
function envName(name: string): string {
	return `LOGMON_ALERT_LABEL_${name.toUpperCase().replaceAll(/[^A-Z\d]/g, '_')}`;
}

/** A NUL cannot be in an environment variable; the rest is passed as it is (never through a shell). */
function envValue(text: string): string {
	return text.replaceAll('\u0000', '');
}

/** The fields of the first notice as environment variables (the stdin JSON has the whole batch). */
export function commandEnv(notices: readonly AlertNotice[]): Record<string, string> {
	const n = notices[0]!;
	const env: Record<string, string> = {
		LOGMON_ALERT_COUNT: String(notices.length),
		LOGMON_ALERT_STATUS: n.status,
		LOGMON_ALERT_REPEAT: n.repeat ? '1' : '0',
		LOGMON_ALERT_RULE: n.rule,
		LOGMON_ALERT_KIND: n.kind,
		LOGMON_ALERT_SEVERITY: n.severity,
		LOGMON_ALERT_FINGERPRINT: n.fingerprint,
		LOGMON_ALERT_SUMMARY: n.summary,
		LOGMON_ALERT_GROUP: describeGroup(n.group),
		LOGMON_ALERT_STARTS_AT: iso(n.startsAt),
		LOGMON_ALERT_ENDS_AT: n.endsAt === undefined ? '' : iso(n.endsAt),
		LOGMON_ALERT_MESSAGE: n.sample?.message ?? '',
		LOGMON_ALERT_SERVICE: n.sample?.service ?? '',
		LOGMON_ALERT_HOST: n.sample?.host ?? '',
	};
	for (const [k, v] of Object.entries(n.group)) {
		env[envName(k)] = v;
	}

	for (const k of Object.keys(env)) {
		env[k] = envValue(env[k]!);
	}

	return env;
}

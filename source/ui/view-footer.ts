import {noticeLine} from '../core/alert-notice.js';
import {describeFilter} from '../core/filter.js';
import {describeForwarder, forwardCountsOf} from '../core/forward-status.js';
import {describeState, type SourceHealth} from '../core/health.js';
import {type RemoteHealth, describeRemoteSources, remoteTroubled} from '../core/remote-health.js';
import {describeHistory} from '../history/status-text.js';
import {type Ctx, count} from './view-common.js';
import {type Segment, type Style, cut, cutSegments, cutStart, safe, segmentsWidth} from './text.js';

// The two rows under the panes: the status bar (sources, rate, drops, pause,
// work in progress, filter) and the hint line (prompt, notice, last problem, keys).

function stateStyle(h: SourceHealth): Style {
	switch (h.state) {
		case 'live': {
			return {color: 'green'};
		}

		case 'failed': {
			return {color: 'red'};
		}

		case 'connecting':
		case 'retrying': {
			return {color: 'yellow'};
		}

		default: {
			return {dim: true};
		}
	}
}

export function statusLine(ctx: Ctx, w: number): string {
	const {m, now} = ctx;
	const s = m.state;
	const {bus, stats} = m.deps;
	// One group of segments per source, alert book and forwarder; `quiet` marks a live source with
	// nothing more to say, which folds into a count when the row is too narrow for every name.
	const groups: Array<{segs: Segment[]; quiet: boolean}> = [];
	const health = bus.health();
	let drops = 0;
	for (const h of health) {
		drops += h.drops;
		if (h.kind === 'alerts') {
			groups.push({segs: [...alertsSegments(h), {text: ' │ ', style: {dim: true}}], quiet: false});
			continue;
		}

		if (h.kind === 'forward') {
			groups.push({segs: [...forwardSegments(h, now), {text: ' │ ', style: {dim: true}}], quiet: false});
			continue;
		}

		const segs: Segment[] = [];
		const quiet = h.state === 'live' && !h.paused && h.parseErrors === 0 && h.kind !== 'connect' && h.kind !== 'docker';

		const state = health.length > 3 && h.state === 'live' ? 'live' : describeState(h, now);
		segs.push({text: `${safe(h.id)}: `, style: {bold: true}}, {text: safe(state), style: stateStyle(h)});
		if (h.paused) {
			segs.push({text: ' (held back)', style: {color: 'yellow'}});
		}

		if (h.parseErrors > 0) {
			segs.push({text: ` ${count(h.parseErrors)} bad`, style: {color: 'yellow'}});
		}

		if (h.kind === 'connect') {
			segs.push(...remoteSegments(h));
		}

		if (h.kind === 'docker' && h.state === 'live') {
			// How many containers it follows; those that left are in the diagnostics.
			const n = (h.details['containers'] as unknown[] | undefined)?.length ?? 0;
			segs.push({text: ` ${n} container${n === 1 ? '' : 's'}`, style: {dim: true}});
		}

		segs.push({text: ' │ ', style: {dim: true}});
		groups.push({segs, quiet});
	}

	const segs: Segment[] = [];
	segs.push({text: `${count(stats.overallRate(now))} ev/s`, style: {bold: true}});
	segs.push({text: ' │ ', style: {dim: true}}, {text: `drops ${count(drops)}`, style: drops > 0 ? {color: 'red'} : {dim: true}});
	const history = m.deps.history?.status();
	if (history) {
		const style: Style = history.state === 'writing' ? (history.dropped > 0 ? {color: 'yellow'} : {dim: true}) : (history.state === 'read-only' ? {color: 'yellow'} : {color: 'red'});
		segs.push({text: ' │ ', style: {dim: true}}, {text: safe(describeHistory(history, true)), style});
	}
	const redaction = bus.redactor;
	if (redaction && (redaction.changed > 0 || redaction.failures > 0)) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: `redacted ${count(redaction.changed)}`, style: redaction.failures > 0 ? {color: 'red'} : {color: 'magenta'}});
	}

	if (!s.following) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: 'PAUSED', style: {color: 'yellow', bold: true}});
	}

	const busy = m.busy();
	if (busy) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: safe(busy), style: {color: 'magenta', bold: true}});
	}

	const filter = describeFilter(s.spec);
	if (filter) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: 'filter ', style: {dim: true}}, {text: safe(filter), style: {color: 'cyan'}});
	}

	// The rate, drops and what follows must stay in sight: when every name does not fit, live
	// sources with nothing more to say are shown as a count, and the others keep their names.
	let sources = groups.flatMap(g => g.segs);
	const quiet = groups.filter(g => g.quiet).length;
	if (quiet > 1 && segmentsWidth(sources) + segmentsWidth(segs) > w) {
		sources = [{text: `${quiet} sources: `, style: {bold: true}}, {text: 'live', style: {color: 'green'}}, {text: ' │ ', style: {dim: true}}, ...groups.filter(g => !g.quiet).flatMap(g => g.segs)];
	}

	return ctx.p.paint(cutSegments([...sources, ...segs], w));
}

/** A connect source's remote, while its stream is up: " ⇒ remote: kafka live, stdin ended". */
function remoteSegments(h: SourceHealth): Segment[] {
	const remote = h.details['remote'] as RemoteHealth | undefined;
	if (h.state !== 'live' || !remote) {
		return [];
	}

	const troubled = remoteTroubled(remote);
	return [{text: ' ⇒ remote: ', style: {dim: true}}, {text: safe(describeRemoteSources(remote)), style: troubled ? {color: 'yellow'} : {color: 'green'}}];
}

/** "→ archive: live 1.2k sent 40 spooled": a forwarder's state and counts, losses in red. */
function forwardSegments(h: SourceHealth, now: number): Segment[] {
	const counts = forwardCountsOf(h.details);
	const lost = counts.dropped > 0 || counts.deadLettered > 0;
	return [
		{text: `→ ${safe(h.id.replace(/^forward:/, ''))}: `, style: {bold: true}},
		{text: safe(describeState(h, now)), style: stateStyle(h)},
		{text: ` ${describeForwarder(counts, 0, true)}`, style: lost ? {color: 'red'} : {dim: true}},
	];
}

type SinkState = {name: string; state: string; lastError?: string; retryAt?: number};

/** "alerts: 2 firing", and any sink that is not well: "slack retrying (HTTP 500)". */
function alertsSegments(h: SourceHealth): Segment[] {
	const firing = Number(h.details['firing'] ?? 0);
	const segs: Segment[] = [{text: 'alerts: ', style: {bold: true}}, {text: firing > 0 ? `${firing} firing` : 'none firing', style: firing > 0 ? {color: 'red', bold: true} : {dim: true}}];
	const sinks = (h.details['sinks'] ?? []) as SinkState[];
	for (const sink of sinks) {
		if (sink.state === 'failed' || sink.state === 'retrying') {
			const why = sink.lastError ? ` (${sink.lastError})` : '';
			segs.push({text: ` ${safe(sink.name)} ${sink.state}${safe(why)}`, style: sink.state === 'failed' ? {color: 'red'} : {color: 'yellow'}});
		}
	}

	return segs;
}

const defaultHint = 'q quit  ? keys  space pause  / search  f filter  tab focus  z max  s/t/v/l/o toggles';
// With the toggles focused, space and enter switch the selected row instead of pausing.
const togglesHint = 'q quit  ? keys  space switch row  a whole section  / search  f filter  tab focus  z max';

function promptLine(ctx: Ctx, w: number): string {
	const prompt = ctx.m.state.prompt!;
	const label = prompt.kind === 'search' ? '/' : 'filter> ';
	const text = safe(prompt.text);
	const segs: Segment[] = [{text: label, style: {color: 'cyan', bold: true}}, {text}, {text: ' ', style: {inverse: true}}];
	if (prompt.error) {
		segs.push({text: '  ' + safe(prompt.error), style: {color: 'red'}});
		return ctx.p.paint(cutSegments(segs, w));
	}

	if (prompt.kind === 'filter') {
		segs.push({text: '  re !re level>=warn service= host= type= source=', style: {dim: true}});
	}

	// Keep the end of a long prompt visible.
	if (segmentsWidth(segs) > w) {
		return ctx.p.paint([{text: '…' + cutStart(label + text, w - 2), style: {color: 'cyan'}}, {text: ' ', style: {inverse: true}}]);
	}

	return ctx.p.paint(segs);
}

export function hintLine(ctx: Ctx, w: number): string {
	const {m, now} = ctx;
	const s = m.state;
	if (s.prompt) {
		return promptLine(ctx, w);
	}

	if (s.notice) {
		return ctx.p.style(cut(safe(s.notice.text), w), {color: 'yellow'});
	}

	if (s.banner) {
		const n = s.banner.notice;
		const style = n.status === 'firing' ? {color: 'red', inverse: true, bold: true} as const : {color: 'green', inverse: true} as const;
		return ctx.p.paint(cutSegments([{text: ` ALERT ${noticeLine(n)} `, style}, {text: '  A: alerts', style: {dim: true}}], w));
	}

	const last = m.deps.bus.diagnostics.recent(1)[0];
	if (last && last.level !== 'debug' && last.level !== 'info' && now - last.time < 10_000) {
		return ctx.p.paint(cutSegments([{text: `${safe(last.origin)}: ${safe(last.text)}`, style: {color: last.level === 'error' ? 'red' : 'yellow'}}], w));
	}

	return ctx.p.style(cut(s.focus === 'toggles' ? togglesHint : defaultHint, w), {dim: true});
}

import {describeGroup} from '../core/alert-notice.js';
import {clock} from '../core/time.js';
import {alertRows} from './state.js';
import {type Ctx, type PaneView, age, pane, selectedLine, title, windowFor} from './view-common.js';
import {type Segment, type Style, cut, cutSegments, fit, safe} from './text.js';

// The alerts list (A): what fires now, each with the line that set it off, then the
// recent notices, newest first. `m` silences the selected row's rule.

const statusStyle: Record<string, Style> = {
	firing: {color: 'red', bold: true},
	resolved: {color: 'green'},
	silenced: {color: 'yellow'},
};

export function alertsOverlay(ctx: Ctx, w: number, h: number): PaneView {
	const {m, now} = ctx;
	const s = m.state;
	const snapshot = m.deps.alerts?.snapshot();
	const rows = snapshot ? alertRows(snapshot) : [];
	const sel = Math.min(s.selected.alerts, Math.max(0, rows.length - 1));
	const lines: string[] = [];
	const room = h - 1;
	// A firing row takes two lines (its sample under it); a recent notice one.
	const heights = rows.map(r => (r.firing && r.notice.sample ? 2 : 1));
	let start = windowFor(sel, Math.max(1, Math.floor(room / 2)));
	while (start < sel && heights.slice(start, sel + 1).reduce((a, b) => a + b, 0) > room) {
		start++;
	}

	for (let i = start; i < rows.length && lines.length < room; i++) {
		const {notice: n, firing, silenced} = rows[i]!;
		const label = firing ? (silenced ? 'SILENCED' : 'FIRING') : (n.status === 'resolved' ? 'resolved' : (n.repeat ? 'again' : 'fired'));
		const style = firing ? (silenced ? statusStyle['silenced'] : statusStyle['firing']) : (n.status === 'resolved' ? statusStyle['resolved'] : {dim: true});
		const group = describeGroup(n.group);
		const when = firing ? `since ${clock(n.startsAt)} (${age(now - n.startsAt)})` : clock(n.at);
		const segs: Segment[] = [
			{text: fit(label, 9), style},
			{text: fit(when, firing ? 22 : 9), style: {dim: true}},
			{text: safe(n.rule), style: {bold: true}},
			...(group ? [{text: ` {${safe(group)}}`, style: {color: 'cyan'} as Style}] : []),
			{text: `  ${safe(n.summary)}`},
		];
		lines.push(selectedLine(ctx, segs, w, i === sel));
		if (firing && n.sample && lines.length < room) {
			const where = [n.sample.service, n.sample.host].filter(Boolean).join(' ');
			lines.push(ctx.p.paint(cutSegments([
				{text: '         └ ', style: {dim: true}},
				{text: `${clock(n.sample.time)} ${safe(where)} ${n.sample.level}: `, style: {dim: true}},
				{text: safe(n.sample.message), style: {color: 'red'}},
			], w)));
		}
	}

	if (rows.length === 0) {
		lines.push(ctx.p.style(`no alert yet · ${snapshot?.rules.length ?? 0} rules watch the stream`, {dim: true}));
	}

	const firing = snapshot?.firing.length ?? 0;
	const silenced = snapshot?.rules.filter(r => r.silencedUntil !== undefined).map(r => `${r.name} until ${clock(r.silencedUntil!)}`) ?? [];
	const t = title(ctx, 'overlay', 'Alerts', w, [
		{text: ` ${firing} firing`, style: firing > 0 ? {color: 'red', bold: true} : {dim: true}},
		{text: silenced.length > 0 ? ` · silenced: ${cut(silenced.join(', '), 60)}` : '', style: {color: 'yellow'}},
		{text: ' · j/k select · m silence 1 h · A or Esc close', style: {dim: true}},
	]);
	return pane('overlay', w, h, t, lines);
}

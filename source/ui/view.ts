import {type LogEvent, type Level, LEVELS} from '../core/event.js';
import {clock, isoTime} from '../core/time.js';
import {describeState, type SourceHealth} from '../core/health.js';
import {describeRedaction} from '../core/redact.js';
import {sparkline} from '../core/histogram.js';
import {serviceColor} from '../sinks/format.js';
import {type UiController} from './controller.js';
import {keybindings} from './keybindings.js';
import {type Layout, type PaneId} from './layout.js';
import {sections} from './toggles.js';
import {type Segment, type Style, Painter, chunks, cut, cutSegments, fit, highlight, safe, segmentsWidth} from './text.js';

// Turns the controller's state and the store/aggregates into the strings of one
// frame: only the rows that fit, already cut to width and coloured.

export type PaneView = {
	id: PaneId | 'overlay';
	width: number;
	height: number;
	title: string;
	lines: string[];
	/** Equal keys mean equal output: lets React skip the pane. */
	key: string;
};

export type View = {
	layout: Layout;
	tail: PaneView | undefined;
	others: PaneView[];
	overlay: PaneView | undefined;
	status: string;
	hint: string;
	/** The whole frame as text, to tell whether anything changed. */
	text: string;
};

const levelStyle: Record<Level, Style> = {
	TRACE: {color: 'gray'},
	DEBUG: {color: 'gray'},
	INFO: {color: 'green'},
	NOTICE: {color: 'cyan'},
	WARN: {color: 'yellow'},
	ERROR: {color: 'red'},
	CRITICAL: {color: 'red', bold: true},
};

const levelShort: Record<Level, string> = {TRACE: 'TRACE', DEBUG: 'DEBUG', INFO: 'INFO ', NOTICE: 'NOTE ', WARN: 'WARN ', ERROR: 'ERROR', CRITICAL: 'CRIT '};

const hitStyle: Style = {inverse: true};

function messageStyle(e: LogEvent): Style | undefined {
	if (e.status !== undefined) {
		if (e.status >= 500) {
			return {color: 'red'};
		}

		if (e.status >= 400) {
			return {color: 'yellow'};
		}
	}

	if (e.level === 'ERROR' || e.level === 'CRITICAL') {
		return {color: 'red'};
	}

	return e.level === 'WARN' ? {color: 'yellow'} : undefined;
}

/** "3s", "5m", "2h", "4d". */
export function age(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	if (s < 60) {
		return `${s}s`;
	}

	if (s < 3600) {
		return `${Math.floor(s / 60)}m`;
	}

	return s < 86_400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86_400)}d`;
}

/** "950", "1.2k", "34k", "1.5M". */
export function count(n: number): string {
	if (n < 1000) {
		return n < 10 && !Number.isInteger(n) ? n.toFixed(1) : String(Math.round(n));
	}

	if (n < 1_000_000) {
		return n < 10_000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n / 1000)}k`;
	}

	return `${(n / 1_000_000).toFixed(1)}M`;
}

function padLeft(text: string, n: number): string {
	return text.length >= n ? text : ' '.repeat(n - text.length) + text;
}

type Ctx = {c: UiController; p: Painter; now: number};

/** The prefix of a tail row: time, service, host, level. */
function rowHead(e: LogEvent, w: number): Segment[] {
	const out: Segment[] = [{text: clock(e.time) + ' ', style: {color: 'gray'}}];
	const who = e.proc ? `${e.service}[${e.proc}]` : e.service;
	if (who) {
		out.push({text: cut(who, w >= 100 ? 24 : 14) + ' ', style: {color: serviceColor(e.service)}});
	}

	if (e.host && w >= 110) {
		out.push({text: cut(e.host, 16) + ' ', style: {dim: true}});
	}

	out.push({text: levelShort[e.level] + ' ', style: levelStyle[e.level]});
	return out;
}

function tailLines(ctx: Ctx, w: number, h: number): {lines: string[]; note: string} {
	const {c, p} = ctx;
	const s = c.state;
	const {store} = c.dependencies;
	let note = '';
	let events: LogEvent[];
	if (s.following) {
		events = store.tail(h, s.filter);
	} else {
		if (c.clampAnchor()) {
			note = 'paused lines left the buffer';
		}

		events = store.tail(h, s.filter, s.anchorSeq + 1);
	}

	const search = s.search?.re;
	const lines: string[] = [];
	const textWidth = w - 1; // one column for the mark
	for (const e of events) {
		const marked = e.seq === s.markSeq;
		const gutter = marked ? p.style('▶', {color: 'yellow', bold: true}) : ' ';
		if (e.marker) {
			lines.push(gutter + p.style(cut(`~~ ${e.message} ~~`, textWidth), {color: 'yellow', inverse: true}));
			continue;
		}

		const head = rowHead(e, w);
		const body = highlight(e.message, search, messageStyle(e), hitStyle);
		if (!s.wrap) {
			lines.push(gutter + p.paint(cutSegments([...head, ...body], textWidth)));
			continue;
		}

		// Wrap: continuation lines are indented under the message.
		const indent = Math.min(segmentsWidth(head), Math.floor(textWidth / 2));
		const room = Math.max(10, textWidth - indent);
		const parts = chunks(e.message, room);
		for (const [i, part] of parts.entries()) {
			const segs = highlight(part, search, messageStyle(e), hitStyle);
			lines.push(i === 0
				? gutter + p.paint(cutSegments([...head, ...segs], textWidth))
				: ' '.repeat(indent + 1) + p.paint(cutSegments(segs, room)));
		}
	}

	return {lines: lines.length > h ? lines.slice(lines.length - h) : lines, note};
}

function title(ctx: Ctx, id: PaneId | 'overlay', text: string, w: number, extra: Segment[] = []): string {
	const focused = ctx.c.state.focus === id || id === 'overlay';
	const segs = cutSegments([{text: ` ${text} `, style: focused ? {inverse: true, bold: true} : {bold: true}}, ...extra], w);
	return ctx.p.paint(segs);
}

function tailPane(ctx: Ctx, w: number, h: number): PaneView {
	const {c} = ctx;
	const s = c.state;
	const {lines, note} = tailLines(ctx, w, h - 1);
	const extra: Segment[] = [];
	if (s.following) {
		extra.push({text: ' following', style: {color: 'green'}});
	} else {
		const arrived = c.dependencies.bus.lastSeq - s.pausedAtSeq;
		extra.push({text: ` PAUSED +${count(arrived)} new `, style: {color: 'yellow', inverse: true}}, {text: ' G or space: follow', style: {dim: true}});
	}

	if (note) {
		extra.push({text: ` ${note}`, style: {color: 'yellow'}});
	}

	if (s.search) {
		extra.push({text: ` /${safe(s.search.text)}/ n/N`, style: {color: 'cyan'}});
	}

	if (s.wrap) {
		extra.push({text: ' wrap', style: {dim: true}});
	}

	const t = title(ctx, 'tail', 'Tail', w, extra);
	return {id: 'tail', width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

function selectedLine(ctx: Ctx, segs: Segment[], w: number, selected: boolean): string {
	if (!selected) {
		return ctx.p.paint(cutSegments(segs, w));
	}

	// The selection is shown in reverse video across the pane (plain text inside, so it reads in any theme).
	const plain = segs.map(x => x.text).join('');
	return ctx.p.style(fit(plain, w), {inverse: true});
}

/** First row shown so that the selected row stays in view. */
function windowFor(selected: number, rows: number): number {
	return Math.max(0, selected - rows + 1);
}

function errorsPane(ctx: Ctx, w: number, h: number): PaneView {
	const {c, now} = ctx;
	const s = c.state;
	const {errors} = c.dependencies;
	const groups = errors.list(s.errorsSort);
	const focused = s.focus === 'errors';
	const sel = Math.min(s.selected.errors, Math.max(0, groups.length - 1));
	const twoLine = w < 70;
	const per = twoLine ? 2 : 1;
	const rows = Math.max(1, Math.floor((h - 1) / per));
	const start = windowFor(sel, rows);
	const lines: string[] = [];
	const sparkWidth = w >= 100 ? 16 : 8;
	for (let i = start; i < groups.length && lines.length + per <= h - 1; i++) {
		const g = groups[i]!;
		const spark = sparkline(g.histogram.series(now), sparkWidth);
		const services = [...g.services].join(',') + (g.moreServices ? ',…' : '');
		const seen = `${age(now - g.firstSeen)}/${age(now - g.lastSeen)}`;
		const selected = focused && i === sel;
		// A leading timestamp tells nothing here; the fingerprint itself keeps it.
		const fp: Segment = {text: g.fingerprint.replace(/^\[?<time>\]?\s*/, ''), style: levelStyle[g.level]};
		if (twoLine) {
			lines.push(selectedLine(ctx, [{text: padLeft(count(g.count), 5) + ' ', style: {bold: true}}, fp], w, selected));
			lines.push(ctx.p.paint(cutSegments([
				{text: '      ' + spark + ' ', style: {color: 'red'}},
				{text: seen + ' ', style: {dim: true}},
				{text: services, style: {color: serviceColor(services)}},
			], w)));
		} else {
			lines.push(selectedLine(ctx, [
				{text: padLeft(count(g.count), 5) + ' ', style: {bold: true}},
				{text: spark + ' ', style: {color: 'red'}},
				{text: padLeft(seen, 7) + ' ', style: {dim: true}},
				{text: cut(services, 16) + ' ', style: {color: serviceColor(services)}},
				fp,
			], w, selected));
		}
	}

	if (groups.length === 0) {
		lines.push(ctx.p.style('no errors yet', {dim: true}));
	}

	const t = title(ctx, 'errors', 'Errors', w, [
		{text: ` ${count(errors.total)} in ${groups.length} groups`, style: {dim: true}},
		{text: ` ${s.errorsSort === 'count' ? 'by count' : 'recent first'} · first/last seen`, style: {dim: true}},
	]);
	return {id: 'errors', width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

function levelBar(levels: Record<Level, number>, total: number, w: number): Segment[] {
	if (total === 0 || w <= 0) {
		return [{text: ' '.repeat(Math.max(0, w))}];
	}

	const out: Segment[] = [];
	let used = 0;
	for (const l of [...LEVELS].reverse()) {
		const n = levels[l];
		if (n === 0) {
			continue;
		}

		// At least one cell for any level present, so a few errors are visible.
		const cells = Math.min(w - used, Math.max(1, Math.round((n / total) * w)));
		if (cells > 0) {
			out.push({text: '█'.repeat(cells), style: levelStyle[l]});
			used += cells;
		}
	}

	if (used < w) {
		out.push({text: ' '.repeat(w - used)});
	}

	return out;
}

type Column = {id: string; header: string; width: number; right: boolean};

/** The stats columns that fit, dropping the least useful first. */
function statsColumns(w: number, byHost: boolean): {name: number; columns: Column[]} {
	const all: Column[] = [
		{id: 'rate', header: 'ev/s', width: 6, right: true},
		{id: 'spark', header: 'last min', width: w >= 90 ? 20 : 10, right: false},
		{id: 'errors', header: 'err', width: 5, right: true},
		{id: 'share', header: 'err%', width: 4, right: true},
		{id: 'levels', header: 'levels', width: 8, right: false},
		{id: 'seen', header: 'seen', width: 4, right: true},
	];
	const order = ['levels', 'seen', 'share', 'spark', 'errors', 'rate'];
	const minName = byHost ? 12 : 8;
	const columns = [...all];
	const room = (): number => w - columns.reduce((a, c) => a + c.width + 1, 0);
	for (const drop of order) {
		if (room() >= minName) {
			break;
		}

		const k = columns.findIndex(c => c.id === drop);
		if (k >= 0) {
			columns.splice(k, 1);
		}
	}

	return {name: Math.max(4, room()), columns};
}

function statsPane(ctx: Ctx, w: number, h: number): PaneView {
	const {c, now} = ctx;
	const s = c.state;
	const {stats} = c.dependencies;
	const rows = stats.rows({byHost: s.statsByHost, sort: s.statsSort, now});
	const focused = s.focus === 'stats';
	const sel = Math.min(s.selected.stats, Math.max(0, rows.length - 1));
	const {name: nameWidth, columns} = statsColumns(w, s.statsByHost);
	const header = ctx.p.style(cut(
		fit('service' + (s.statsByHost ? '@host' : ''), nameWidth) + columns.map(col => ' ' + (col.right ? padLeft(col.header, col.width) : fit(col.header, col.width))).join(''), w), {dim: true});
	const lines = [header];
	const room = Math.max(1, h - 2);
	const start = windowFor(sel, room);
	for (let i = start; i < rows.length && lines.length < h - 1; i++) {
		const {stat, rate, errorShare} = rows[i]!;
		const name = stat.host === undefined ? stat.service : `${stat.service}@${stat.host}`;
		const segs: Segment[] = [{text: fit(safe(name) || '(none)', nameWidth), style: {color: serviceColor(stat.service)}}];
		for (const col of columns) {
			segs.push({text: ' '});
			switch (col.id) {
				case 'rate': {
					segs.push({text: padLeft(count(rate), col.width)});
					break;
				}

				case 'spark': {
					segs.push({text: fit(sparkline(stat.histogram.series(now), col.width), col.width), style: {color: 'cyan'}});
					break;
				}

				case 'errors': {
					segs.push({text: padLeft(count(stat.errors), col.width), style: stat.errors > 0 ? {color: 'red'} : {dim: true}});
					break;
				}

				case 'share': {
					const pct = errorShare === 0 ? '0%' : `${Math.max(1, Math.round(errorShare * 100))}%`;
					segs.push({text: padLeft(pct, col.width), style: errorShare > 0.05 ? {color: 'red'} : {dim: true}});
					break;
				}

				case 'levels': {
					segs.push(...levelBar(stat.levels, stat.total, col.width));
					break;
				}

				case 'seen': {
					segs.push({text: padLeft(age(now - stat.lastSeen), col.width), style: {dim: true}});
					break;
				}

				default: {
					break;
				}
			}
		}

		lines.push(selectedLine(ctx, segs, w, focused && i === sel));
	}

	if (rows.length === 0) {
		lines.push(ctx.p.style('no events yet', {dim: true}));
	}

	const t = title(ctx, 'stats', 'Services', w, [
		{text: ` by ${s.statsSort}${s.statsByHost ? ' · per host' : ''}`, style: {dim: true}},
		{text: ' r:sort b:hosts', style: {dim: true}},
	]);
	return {id: 'stats', width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

const stateGlyph: Record<string, {glyph: string; style: Style}> = {
	on: {glyph: '●', style: {color: 'green'}},
	off: {glyph: '○', style: {dim: true}},
	partial: {glyph: '◑', style: {color: 'green'}},
	pending: {glyph: '◌', style: {color: 'yellow'}},
	failed: {glyph: '✗', style: {color: 'red'}},
};

const sectionLabel: Record<string, string> = {servers: 's:srv', types: 't:type', services: 'v:svc', levels: 'l:lvl', sources: 'o:src'};

function togglesPane(ctx: Ctx, w: number, h: number): PaneView {
	const {c} = ctx;
	const s = c.state;
	const rows = c.toggles.rows(s.section, s.spec);
	const focused = s.focus === 'toggles';
	const strip: Segment[] = [];
	for (const sec of sections) {
		strip.push({text: sectionLabel[sec]!, style: sec === s.section ? {inverse: true} : {dim: true}}, {text: ' '});
	}

	const lines = [ctx.p.paint(cutSegments(strip, w))];
	const {start, rows: room} = c.togglesWindow(h - 2);
	for (let i = start; i < rows.length && lines.length < h - 1 && i - start < room; i++) {
		const row = rows[i]!;
		const n = i - start;
		const label = n < 10 ? String((n + 1) % 10) : ' ';
		const g = stateGlyph[row.state]!;
		const name = safe(row.name) || '(none)';
		const detail = row.state === 'on' || row.state === 'off' ? (row.upstream ? row.detail : '') : `${row.state} ${row.detail}`;
		// Servers x types: each upstream row also shows one glyph per pair, when there is room.
		const cells: Segment[] = row.cells && w >= 40 ? [{text: ' '}, ...row.cells.map(cell => ({text: stateGlyph[cell]!.glyph, style: stateGlyph[cell]!.style}))] : [];
		const segs: Segment[] = [
			{text: label + ' ', style: {bold: true}},
			{text: g.glyph + ' ', style: g.style},
			{text: name, style: row.state === 'off' ? {dim: true} : undefined},
			...(detail ? [{text: ' ' + detail, style: row.state === 'failed' ? {color: 'red'} : {dim: true}}] : []),
			...cells,
		];
		lines.push(selectedLine(ctx, segs, w, focused && i === s.selected.toggles));
	}

	if (rows.length === 0) {
		lines.push(ctx.p.style(`no ${s.section} seen yet`, {dim: true}));
	}

	const upstream = rows.some(r => r.upstream);
	const t = title(ctx, 'toggles', 'Toggles', w, [{text: upstream ? ' upstream: server sends only what is on' : ' 1-9 switch · a all', style: {dim: true}}]);
	return {id: 'toggles', width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

function helpOverlay(ctx: Ctx, w: number, h: number): PaneView {
	const entries = keybindings.filter(b => b.context !== 'prompt').map(b => {
		const keys = b.keys.length > 3 ? `${b.keys[0]}-${b.keys.at(-1)}` : b.keys.join(' ');
		const where = b.context === 'global' ? '' : ` (${b.context})`;
		return {keys, text: b.description + where};
	});
	const prompt = keybindings.filter(b => b.context === 'prompt').map(b => `${b.keys.join(' ')} ${b.description}`).join(' · ');
	const rows = h - 3;
	const columns = Math.max(1, Math.ceil(entries.length / rows));
	const colWidth = Math.floor(w / columns);
	const keyWidth = 12;
	const lines: string[] = [];
	for (let r = 0; r < rows; r++) {
		const segs: Segment[] = [];
		for (let col = 0; col < columns; col++) {
			const e = entries[(col * rows) + r];
			if (!e) {
				continue;
			}

			segs.push({text: fit(e.keys, keyWidth), style: {color: 'cyan', bold: true}}, {text: fit(e.text, Math.max(0, colWidth - keyWidth))});
		}

		if (segs.length > 0) {
			lines.push(ctx.p.paint(cutSegments(segs, w)));
		}
	}

	lines.push(ctx.p.style(cut(`in a prompt: ${prompt}`, w), {dim: true}));
	// Each redaction rule's hits (the health of the redaction stage).
	const redactor = ctx.c.dependencies.bus.redactor;
	const redaction = redactor ? describeRedaction(redactor.health()) ?? 'nothing yet' : 'off (--no-redact)';
	lines.push(ctx.p.style(cut(`redacted: ${safe(redaction)}`, w), {color: 'magenta'}));
	const t = title(ctx, 'overlay', 'Keys', w, [{text: ' ? or Esc to close', style: {dim: true}}]);
	return {id: 'overlay', width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

function detailOverlay(ctx: Ctx, e: LogEvent, w: number, h: number): PaneView {
	const fields: Array<[string, string]> = [
		['time', isoTime(e.time)],
		['received', isoTime(e.receivedAt)],
		['source', `${e.sourceId} (${e.sourceKind})`],
		['service', e.service],
		['host', e.host],
		['proc', e.proc],
		['type', e.type],
		['level', e.level],
		['status', e.status === undefined ? '' : String(e.status)],
		['seq', String(e.seq)],
	];
	const lines: string[] = [];
	for (const [k, v] of fields) {
		if (v) {
			lines.push(ctx.p.paint(cutSegments([{text: fit(k, 10), style: {dim: true}}, {text: v}], w)));
		}
	}

	lines.push('');
	for (const part of chunks(e.message, w)) {
		if (lines.length >= h - 1) {
			break;
		}

		lines.push(ctx.p.style(part, messageStyle(e)));
	}

	const t = title(ctx, 'overlay', 'Latest occurrence', w, [{text: ' Esc or Enter to close · marked ▶ in the tail', style: {dim: true}}]);
	return {id: 'overlay', width: w, height: h, title: t, lines: lines.slice(0, h - 1), key: t + lines.join('\n')};
}

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

function statusLine(ctx: Ctx, w: number): string {
	const {c, now} = ctx;
	const s = c.state;
	const {bus, stats} = c.dependencies;
	const segs: Segment[] = [];
	const health = bus.health();
	let drops = 0;
	for (const h of health) {
		drops += h.drops;
		const state = health.length > 3 && h.state === 'live' ? 'live' : describeState(h, now);
		segs.push({text: `${safe(h.id)}: `, style: {bold: true}}, {text: safe(state), style: stateStyle(h)});
		if (h.paused) {
			segs.push({text: ' (held back)', style: {color: 'yellow'}});
		}

		if (h.parseErrors > 0) {
			segs.push({text: ` ${count(h.parseErrors)} bad`, style: {color: 'yellow'}});
		}

		segs.push({text: ' │ ', style: {dim: true}});
	}

	segs.push({text: `${count(stats.overallRate(now))} ev/s`, style: {bold: true}});
	segs.push({text: ' │ ', style: {dim: true}}, {text: `drops ${count(drops)}`, style: drops > 0 ? {color: 'red'} : {dim: true}});
	const redaction = bus.redactor;
	if (redaction && (redaction.changed > 0 || redaction.failures > 0)) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: `redacted ${count(redaction.changed)}`, style: redaction.failures > 0 ? {color: 'red'} : {color: 'magenta'}});
	}

	if (!s.following) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: 'PAUSED', style: {color: 'yellow', bold: true}});
	}

	const filter = c.describeFilter();
	if (filter) {
		segs.push({text: ' │ ', style: {dim: true}}, {text: 'filter ', style: {dim: true}}, {text: safe(filter), style: {color: 'cyan'}});
	}

	return ctx.p.paint(cutSegments(segs, w));
}

const defaultHint = 'q quit  ? keys  space pause  / search  f filter  tab focus  z max  s/t/v/l/o toggles';

function hintLine(ctx: Ctx, w: number): string {
	const {c, now} = ctx;
	const s = c.state;
	if (s.prompt) {
		const label = s.prompt.kind === 'search' ? '/' : 'filter> ';
		const segs: Segment[] = [{text: label, style: {color: 'cyan', bold: true}}, {text: safe(s.prompt.text)}, {text: ' ', style: {inverse: true}}];
		if (s.prompt.error) {
			segs.push({text: '  ' + safe(s.prompt.error), style: {color: 'red'}});
		} else if (s.prompt.kind === 'filter') {
			segs.push({text: '  re !re level>=warn service= host= type= source=', style: {dim: true}});
		}

		// Keep the end of a long prompt visible.
		const all = segmentsWidth(segs);
		if (s.prompt.error) {
			return ctx.p.paint(cutSegments(segs, w));
		}

		if (all > w) {
			const text = label + safe(s.prompt.text);
			return ctx.p.paint([{text: '…' + text.slice(text.length - (w - 2)), style: {color: 'cyan'}}, {text: ' ', style: {inverse: true}}]);
		}

		return ctx.p.paint(segs);
	}

	if (s.notice) {
		return ctx.p.style(cut(s.notice.text, w), {color: 'yellow'});
	}

	const last = c.dependencies.bus.diagnostics.recent(1)[0];
	if (last && last.level !== 'debug' && last.level !== 'info' && now - last.time < 10_000) {
		return ctx.p.paint(cutSegments([{text: `${safe(last.origin)}: ${safe(last.text)}`, style: {color: last.level === 'error' ? 'red' : 'yellow'}}], w));
	}

	return ctx.p.style(cut(defaultHint, w), {dim: true});
}

export function buildView(c: UiController, now: number): View {
	const p = new Painter(c.dependencies.colorLevel);
	const ctx: Ctx = {c, p, now};
	const layout = c.layout();
	const s = c.state;
	let tail: PaneView | undefined;
	let others: PaneView[] = [];
	let overlay: PaneView | undefined;
	if (s.help) {
		overlay = helpOverlay(ctx, layout.width, layout.bodyHeight);
	} else if (s.detail) {
		overlay = detailOverlay(ctx, s.detail, layout.width, layout.bodyHeight);
	} else {
		tail = layout.tail ? tailPane(ctx, layout.tail.width, layout.tail.height) : undefined;
		others = layout.others.map(box => {
			switch (box.id) {
				case 'errors': {
					return errorsPane(ctx, box.width, box.height);
				}

				case 'stats': {
					return statsPane(ctx, box.width, box.height);
				}

				case 'toggles': {
					return togglesPane(ctx, box.width, box.height);
				}

				case 'tail': {
					return tailPane(ctx, box.width, box.height);
				}
			}
		});
	}

	const status = statusLine(ctx, layout.width);
	const hint = hintLine(ctx, layout.width);
	const parts = [tail?.key ?? '', ...others.map(o => o.key), overlay?.key ?? '', status, hint, `${layout.width}x${layout.height}:${layout.arrangement}`];
	return {layout, tail, others, overlay, status, hint, text: parts.join('\u0000')};
}


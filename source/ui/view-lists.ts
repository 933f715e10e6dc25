import {type ErrorGroup, varyingParts} from '../core/errors.js';
import {type Level, type LogEvent, LEVELS} from '../core/event.js';
import {sparkline} from '../core/histogram.js';
import {type StatsRow} from '../core/stats.js';
import {serviceColor} from '../sinks/format.js';
import {togglesWindow} from './state.js';
import {sections} from './toggles.js';
import {type Ctx, type PaneView, age, count, levelStyle, padLeft, pane, selectedLine, title, windowFor} from './view-common.js';
import {type Segment, type Style, cut, cutSegments, fit, safe} from './text.js';

// The panes beside or below the tail: error groups, per-service statistics, toggles.

/** An error group's latest message, its varying parts dimmed and a leading timestamp left out (the tail has the time). */
const samples = new WeakMap<LogEvent, Segment[]>();

function sample(g: ErrorGroup): Segment[] {
	const e = g.latest;
	const cached = samples.get(e);
	if (cached) {
		return cached;
	}

	const text = e.message;
	const style = levelStyle[g.level];
	const dim: Style = {...style, dim: true};
	const parts = varyingParts(text);
	let from = 0;
	if (parts[0]?.kind === 'time' && /^\[?$/.test(text.slice(0, parts[0].start))) {
		from = parts[0].end;
		parts.shift();
		from += /^\]?\s*/.exec(text.slice(from))![0].length;
	}

	const segs: Segment[] = [];
	for (const part of parts) {
		if (part.start > from) {
			segs.push({text: text.slice(from, part.start), style});
		}

		segs.push({text: text.slice(part.start, part.end), style: dim});
		from = part.end;
	}

	if (from < text.length) {
		// The rest, up to what any pane can show.
		segs.push({text: text.slice(from, from + 1024), style});
	}

	samples.set(e, segs);
	return segs;
}

export function errorsPane(ctx: Ctx, w: number, h: number): PaneView {
	const {m, now} = ctx;
	const s = m.state;
	const {errors} = m.deps;
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
		const text = sample(g);
		if (twoLine) {
			lines.push(selectedLine(ctx, [{text: padLeft(count(g.count), 5) + ' ', style: {bold: true}}, ...text], w, selected));
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
				...text,
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
	return pane('errors', w, h, t, lines);
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

function statsCell(ctx: Ctx, col: Column, row: StatsRow): Segment[] {
	const {stat, rate, errorShare} = row;
	switch (col.id) {
		case 'rate': {
			return [{text: padLeft(count(rate), col.width)}];
		}

		case 'spark': {
			return [{text: fit(sparkline(stat.histogram.series(ctx.now), col.width), col.width), style: {color: 'cyan'}}];
		}

		case 'errors': {
			return [{text: padLeft(count(stat.errors), col.width), style: stat.errors > 0 ? {color: 'red'} : {dim: true}}];
		}

		case 'share': {
			const pct = errorShare === 0 ? '0%' : `${Math.max(1, Math.round(errorShare * 100))}%`;
			return [{text: padLeft(pct, col.width), style: errorShare > 0.05 ? {color: 'red'} : {dim: true}}];
		}

		case 'levels': {
			return levelBar(stat.levels, stat.total, col.width);
		}

		case 'seen': {
			return [{text: padLeft(age(ctx.now - stat.lastSeen), col.width), style: {dim: true}}];
		}

		default: {
			return [];
		}
	}
}

export function statsPane(ctx: Ctx, w: number, h: number): PaneView {
	const {m, now} = ctx;
	const s = m.state;
	const rows = m.deps.stats.rows({byHost: s.statsByHost, sort: s.statsSort, now});
	const focused = s.focus === 'stats';
	const sel = Math.min(s.selected.stats, Math.max(0, rows.length - 1));
	const {name: nameWidth, columns} = statsColumns(w, s.statsByHost);
	const header = ctx.p.style(cut(
		fit('service' + (s.statsByHost ? '@host' : ''), nameWidth) + columns.map(col => ' ' + (col.right ? padLeft(col.header, col.width) : fit(col.header, col.width))).join(''), w), {dim: true});
	const lines = [header];
	const room = Math.max(1, h - 2);
	const start = windowFor(sel, room);
	for (let i = start; i < rows.length && lines.length < h - 1; i++) {
		const row = rows[i]!;
		const {stat} = row;
		const name = stat.host === undefined ? stat.service : `${stat.service}@${stat.host}`;
		const segs: Segment[] = [{text: fit(safe(name) || '(none)', nameWidth), style: {color: serviceColor(stat.service)}}];
		for (const col of columns) {
			segs.push({text: ' '}, ...statsCell(ctx, col, row));
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
	return pane('stats', w, h, t, lines);
}

const stateGlyph: Record<string, {glyph: string; style: Style}> = {
	on: {glyph: '●', style: {color: 'green'}},
	off: {glyph: '○', style: {dim: true}},
	partial: {glyph: '◑', style: {color: 'green'}},
	pending: {glyph: '◌', style: {color: 'yellow'}},
	failed: {glyph: '✗', style: {color: 'red'}},
};

const sectionLabel: Record<string, string> = {servers: 's:srv', types: 't:type', services: 'v:svc', levels: 'l:lvl', sources: 'o:src'};

export function togglesPane(ctx: Ctx, w: number, h: number): PaneView {
	const {m} = ctx;
	const s = m.state;
	const rows = m.toggles.rows(s.section, s.spec);
	const focused = s.focus === 'toggles';
	const strip: Segment[] = [];
	for (const sec of sections) {
		strip.push({text: sectionLabel[sec]!, style: sec === s.section ? {inverse: true} : {dim: true}}, {text: ' '});
	}

	const lines = [ctx.p.paint(cutSegments(strip, w))];
	const {start, rows: room} = togglesWindow(s.selected.toggles, h - 2);
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
			...(detail ? [{text: ' ' + safe(detail), style: row.state === 'failed' ? {color: 'red'} : {dim: true}}] : []),
			...cells,
		];
		lines.push(selectedLine(ctx, segs, w, focused && i === s.selected.toggles));
	}

	if (rows.length === 0) {
		lines.push(ctx.p.style(`no ${s.section} seen yet`, {dim: true}));
	}

	const upstream = rows.some(r => r.upstream);
	const t = title(ctx, 'toggles', 'Toggles', w, [{text: upstream ? ' upstream: server sends only what is on' : ' 1-9 switch · a all', style: {dim: true}}]);
	return pane('toggles', w, h, t, lines);
}

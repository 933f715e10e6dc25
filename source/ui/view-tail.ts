import {type LogEvent} from '../core/event.js';
import {serviceColor} from '../sinks/format.js';
import {clock} from '../core/time.js';
import {type Ctx, type PaneView, count, levelShort, levelStyle, messageStyle, pane, title} from './view-common.js';
import {type EventLines, eventLines, maxEventLines} from './event-rows.js';
import {type Segment, type Style, chunks, cut, cutSegments, highlight, measure, safe, segmentsWidth} from './text.js';

// The live tail: one row per event (or several with wrap, and a multi-line event's
// lines: event-rows.ts), newest at the bottom, each cut to the pane by grapheme clusters.

const hitStyle: Style = {inverse: true};

/** Characters past the visible part that a search still sees, so a match running off the edge is highlighted. */
const highlightMargin = 256;

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

/** `text` split at the search's matches; only the part that can show (plus a margin) is searched. */
function marked(ctx: Ctx, text: string, room: number, style: Style | undefined): Segment[] {
	const search = ctx.m.state.search;
	if (!search) {
		return [{text, style}];
	}

	const visible = measure(text, room).end;
	const part = text.length > visible + highlightMargin ? text.slice(0, visible + highlightMargin) : text;
	return highlight(part, search.matcher.ranges(part, 200), style, hitStyle);
}

/**
 * The rows of a multi-line event after its first: its other lines (wrapped or not), then how many
 * lines are left out. `used`: rows its first line took; `side`: the gutter of these rows.
 */
function continuationRows(ctx: Ctx, e: LogEvent, parts: EventLines, layout: {indent: number; room: number; wrap: boolean; used: number}, side: string): string[] {
	const {p} = ctx;
	const {indent, room, wrap} = layout;
	const rows: string[] = [];
	const pad = side + ' '.repeat(indent);
	let budget = maxEventLines - layout.used;
	let started = 0;
	for (const part of parts.lines.slice(1)) {
		if (budget <= 0) {
			break;
		}

		const pieces = wrap ? chunks(part, room, budget) : [part];
		budget -= pieces.length;
		started++;
		for (const piece of pieces) {
			rows.push(pad + p.paint(cutSegments(marked(ctx, piece, room, messageStyle(e)), room)));
		}
	}

	const more = parts.more + (parts.lines.length - 1 - started);
	if (more > 0) {
		const search = ctx.m.state.search;
		const hit = search && search.matcher.test(e.message.slice(parts.restAt)) ? ` (/${safe(search.text)}/ matches below)` : '';
		rows.push(pad + p.style(cut(`… ${more} more ${more === 1 ? 'line' : 'lines'}${hit}`, room), {dim: true}));
	}

	return rows;
}

/** An event's rows: one, or several with wrap or when it holds several lines. */
function eventRows(ctx: Ctx, e: LogEvent, w: number, h: number): string[] {
	const {p} = ctx;
	const s = ctx.m.state;
	const textWidth = w - 1; // one column for the mark
	const isMarked = e.seq === s.markSeq;
	const gutter = isMarked ? p.style('▶', {color: 'yellow', bold: true}) : ' ';
	if (e.marker === 'history') {
		// Where the history ends, `loading…`: rows the tail adds over the history.
		return [gutter + p.style(cut(`── ${e.message} ──`, textWidth), {color: 'cyan', bold: true})];
	}

	if (e.marker === 'alert') {
		const style = e.level === 'INFO' ? {color: 'green', inverse: true} as const : {color: 'red', inverse: true, bold: true} as const;
		return [gutter + p.style(cut(`!! ${e.message}`, textWidth), style)];
	}

	if (e.marker) {
		return [gutter + p.style(cut(`~~ ${e.message} ~~`, textWidth), {color: 'yellow', inverse: true})];
	}

	const head = rowHead(e, w);
	const headWidth = segmentsWidth(head);
	// Continuation rows (wrap, a stack trace's lines) are indented under the message.
	const indent = Math.min(headWidth, Math.floor(textWidth / 2));
	const room = Math.max(10, textWidth - indent);
	const parts = eventLines(e);
	const joined = parts.lines.length > 1;
	// The marked event's other rows carry a bar, so it shows where it ends.
	const side = isMarked ? p.style('│', {color: 'yellow'}) : ' ';
	if (!s.wrap) {
		const body = marked(ctx, parts.lines[0]!, Math.max(0, textWidth - headWidth), messageStyle(e));
		const first = gutter + p.paint(cutSegments([...head, ...body], textWidth));
		return joined ? [first, ...continuationRows(ctx, e, parts, {indent, room, wrap: false, used: 1}, side)] : [first];
	}

	// Wrap: no more rows than the pane has.
	const rows: string[] = [];
	const pieces = chunks(parts.lines[0]!, room, joined ? maxEventLines : h);
	for (const [i, piece] of pieces.entries()) {
		const segs = marked(ctx, piece, room, messageStyle(e));
		rows.push(i === 0
			? gutter + p.paint(cutSegments([...head, ...segs], textWidth))
			: side + ' '.repeat(indent) + p.paint(cutSegments(segs, room)));
	}

	return joined ? [...rows, ...continuationRows(ctx, e, parts, {indent, room, wrap: true, used: pieces.length}, side)] : rows;
}

/**
 * The tail's rows: the events up to the anchor (or the newest), bottom row last. Events of
 * several rows may not fill the pane exactly: the newest rows show, unless that would hide
 * the marked event's first row; and while paused, rows of the events after the anchor fill
 * what is left (at the top of the buffer, the first event shows whole and the pane is full).
 */
function tailLines(ctx: Ctx, w: number, h: number): string[] {
	const {m} = ctx;
	const s = m.state;
	const lines: string[] = [];
	/** Where the marked event's first row is. */
	let markedAt = -1;
	for (const e of m.tailEvents(h)) {
		if (e.seq === s.markSeq) {
			markedAt = lines.length;
		}

		lines.push(...eventRows(ctx, e, w, h));
	}

	if (lines.length < h) {
		for (const e of m.tailBelow(h - lines.length)) {
			if (lines.length >= h) {
				break;
			}

			lines.push(...eventRows(ctx, e, w, h).slice(0, h - lines.length));
		}

		return lines;
	}

	const from = markedAt >= 0 && markedAt < lines.length - h ? markedAt : lines.length - h;
	return lines.slice(from, from + h);
}

export function tailPane(ctx: Ctx, w: number, h: number): PaneView {
	const {m} = ctx;
	const s = m.state;
	const lines = tailLines(ctx, w, h - 1);
	const note = m.tailNote();
	const extra: Segment[] = [];
	if (!s.following && s.anchorSeq < 0) {
		extra.push({text: ' history', style: {color: 'cyan', bold: true}});
	}

	if (s.following) {
		extra.push({text: ' following', style: {color: 'green'}});
	} else {
		const arrived = m.deps.bus.lastSeq - s.pausedAtSeq;
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

	return pane('tail', w, h, title(ctx, 'tail', 'Tail', w, extra), lines);
}

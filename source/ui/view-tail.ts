import {type LogEvent} from '../core/event.js';
import {serviceColor} from '../sinks/format.js';
import {clock} from '../core/time.js';
import {type Ctx, type PaneView, count, levelShort, levelStyle, messageStyle, pane, title} from './view-common.js';
import {type Segment, type Style, chunks, cut, cutSegments, highlight, measure, safe, segmentsWidth} from './text.js';

// The live tail: one row per event (or several with wrap), newest at the
// bottom, each cut to the pane by grapheme clusters.

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

function tailLines(ctx: Ctx, w: number, h: number): string[] {
	const {m, p} = ctx;
	const s = m.state;
	const events = m.tailEvents(h);
	const lines: string[] = [];
	const textWidth = w - 1; // one column for the mark
	for (const e of events) {
		const isMarked = e.seq === s.markSeq;
		const gutter = isMarked ? p.style('▶', {color: 'yellow', bold: true}) : ' ';
		if (e.marker === 'history') {
			// Where the history ends, `loading…`: rows the tail adds over the history.
			lines.push(gutter + p.style(cut(`── ${e.message} ──`, textWidth), {color: 'cyan', bold: true}));
			continue;
		}

		if (e.marker === 'alert') {
			const style = e.level === 'INFO' ? {color: 'green', inverse: true} as const : {color: 'red', inverse: true, bold: true} as const;
			lines.push(gutter + p.style(cut(`!! ${e.message}`, textWidth), style));
			continue;
		}

		if (e.marker) {
			lines.push(gutter + p.style(cut(`~~ ${e.message} ~~`, textWidth), {color: 'yellow', inverse: true}));
			continue;
		}

		const head = rowHead(e, w);
		const headWidth = segmentsWidth(head);
		if (!s.wrap) {
			const body = marked(ctx, e.message, Math.max(0, textWidth - headWidth), messageStyle(e));
			lines.push(gutter + p.paint(cutSegments([...head, ...body], textWidth)));
			continue;
		}

		// Wrap: continuation lines are indented under the message; no more rows than the pane has.
		const indent = Math.min(headWidth, Math.floor(textWidth / 2));
		const room = Math.max(10, textWidth - indent);
		const parts = chunks(e.message, room, h);
		for (const [i, part] of parts.entries()) {
			const segs = marked(ctx, part, room, messageStyle(e));
			lines.push(i === 0
				? gutter + p.paint(cutSegments([...head, ...segs], textWidth))
				: ' '.repeat(indent + 1) + p.paint(cutSegments(segs, room)));
		}
	}

	return lines.length > h ? lines.slice(lines.length - h) : lines;
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

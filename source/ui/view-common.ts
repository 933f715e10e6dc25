import {type Level, type LogEvent} from '../core/event.js';
import {type PaneId} from './layout.js';
import {type UiModel} from './state.js';
import {type Segment, type Style, type Painter, cutSegments, fit} from './text.js';

// What every part of a frame shares: the pane shape, colours, and small formatters.

export type PaneView = {
	id: PaneId | 'overlay';
	width: number;
	height: number;
	title: string;
	lines: string[];
	/** Equal keys mean equal output: lets React skip the pane. */
	key: string;
};

export type Ctx = {m: UiModel; p: Painter; now: number};

export const levelStyle: Record<Level, Style> = {
	TRACE: {color: 'gray'},
	DEBUG: {color: 'gray'},
	INFO: {color: 'green'},
	NOTICE: {color: 'cyan'},
	WARN: {color: 'yellow'},
	ERROR: {color: 'red'},
	CRITICAL: {color: 'red', bold: true},
};

export const levelShort: Record<Level, string> = {TRACE: 'TRACE', DEBUG: 'DEBUG', INFO: 'INFO ', NOTICE: 'NOTE ', WARN: 'WARN ', ERROR: 'ERROR', CRITICAL: 'CRIT '};

export function messageStyle(e: LogEvent): Style | undefined {
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

export function padLeft(text: string, n: number): string {
	return text.length >= n ? text : ' '.repeat(n - text.length) + text;
}

export function title(ctx: Ctx, id: PaneId | 'overlay', text: string, w: number, extra: Segment[] = []): string {
	const focused = ctx.m.state.focus === id || id === 'overlay';
	const segs = cutSegments([{text: ` ${text} `, style: focused ? {inverse: true, bold: true} : {bold: true}}, ...extra], w);
	return ctx.p.paint(segs);
}

export function selectedLine(ctx: Ctx, segs: Segment[], w: number, selected: boolean): string {
	if (!selected) {
		return ctx.p.paint(cutSegments(segs, w));
	}

	// The selection is shown in reverse video across the pane (no colours inside, so it reads in any theme; dim parts stay dim).
	const cells = cutSegments(segs, w);
	const used = cells.reduce((a, s) => a + s.text.length, 0);
	const plain = cells.map(s => ({text: s.text, style: {inverse: true, dim: s.style?.dim === true}}));
	const rest = fit(cells.map(s => s.text).join(''), w).slice(used);
	return ctx.p.paint([...plain, {text: rest, style: {inverse: true}}]);
}

/** First row shown so that the selected row stays in view. */
export function windowFor(selected: number, rows: number): number {
	return Math.max(0, selected - rows + 1);
}

export function pane(id: PaneView['id'], w: number, h: number, t: string, lines: string[]): PaneView {
	return {id, width: w, height: h, title: t, lines, key: t + lines.join('\n')};
}

// DOM helpers. Everything that came from a log (messages, services, hosts) is untrusted: it only
// ever becomes a text node (textContent), never markup. No innerHTML anywhere in the dashboard.

type Props = {
	className?: string;
	text?: string;
	title?: string;
};

/** An element with text set as text; children appended in order. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (props.className) {
		node.className = props.className;
	}

	if (props.text !== undefined) {
		node.textContent = props.text;
	}

	if (props.title !== undefined) {
		node.title = props.title;
	}

	node.append(...children);
	return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
	const node = document.getElementById(id);
	if (!node) {
		throw new Error(`dashboard: #${id} is missing from the page`);
	}

	return node as T;
}

/** The first tbody of a table. */
export function bodyOf(tableId: string): HTMLTableSectionElement {
	return byId<HTMLTableElement>(tableId).tBodies[0]!;
}

/** `12:03:04.567`, local time. */
export function clock(ms: number): string {
	const d = new Date(ms);
	const two = (n: number) => String(n).padStart(2, '0');
	return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `3 s ago`, `5 min ago`, `2 h ago`. */
export function ago(ms: number | undefined, now = Date.now()): string {
	if (ms === undefined || !Number.isFinite(ms)) {
		return '–';
	}

	const s = Math.max(0, Math.round((now - ms) / 1000));
	if (s < 60) {
		return `${s} s ago`;
	}

	if (s < 3600) {
		return `${Math.round(s / 60)} min ago`;
	}

	return s < 86_400 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86_400)} d ago`;
}

/** 1234567 → `1,234,567`. */
export function count(n: number): string {
	return n.toLocaleString('en-US');
}

export function rate(n: number | null | undefined): string {
	if (n === null || n === undefined) {
		return '–';
	}

	return n >= 100 ? n.toFixed(0) : (n >= 10 ? n.toFixed(1) : n.toFixed(2));
}

export function percent(x: number): string {
	return `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;
}

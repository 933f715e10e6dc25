// Charts drawn as SVG by hand: a sparkline for an error group, and the line chart of events/s and
// errors/s. Only numbers and fixed labels go into them.

const svgNs = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
	const node = document.createElementNS(svgNs, tag);
	for (const [name, value] of Object.entries(attrs)) {
		node.setAttribute(name, String(value));
	}

	return node;
}

function points(values: readonly number[], width: number, height: number, max: number, top = 0): string {
	const n = values.length;
	return values.map((v, i) => {
		const x = n === 1 ? width : (i / (n - 1)) * width;
		const y = top + height - (max > 0 ? (v / max) * height : 0);
		return `${x.toFixed(1)},${y.toFixed(1)}`;
	}).join(' ');
}

export function sparkline(values: readonly number[], width = 120, height = 20): SVGSVGElement {
	const root = svg('svg', {class: 'sparkline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img'});
	const max = Math.max(0, ...values);
	root.append(svg('polyline', {points: points(values, width, height - 2, max, 1), fill: 'none'}));
	root.setAttribute('aria-label', `trend, at most ${max} per bucket`);
	return root;
}

export type Series = {label: string; className: string; values: readonly number[]};

/** A line chart: the series share the y axis; `start` and `stepMs` place the x axis. */
export function lineChart(series: readonly Series[], start: number, stepMs: number, width = 640, height = 180): SVGSVGElement {
	const left = 48;
	const bottom = 20;
	const top = 8;
	const plotW = width - left - 8;
	const plotH = height - top - bottom;
	const root = svg('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', preserveAspectRatio: 'none'});
	const max = niceMax(Math.max(0, ...series.flatMap(s => s.values)));
	for (const f of [0, 0.5, 1]) {
		const y = top + plotH - (f * plotH);
		root.append(svg('line', {class: 'grid', x1: left, x2: left + plotW, y1: y, y2: y}));
		const label = svg('text', {x: left - 4, y: y + 4, 'text-anchor': 'end'});
		label.textContent = formatRate(max * f);
		root.append(label);
	}

	const n = Math.max(...series.map(s => s.values.length), 1);
	for (const [i, anchor] of [[0, 'start'], [n - 1, 'end']] as const) {
		const label = svg('text', {x: left + (n === 1 ? plotW : (i / (n - 1)) * plotW), y: height - 4, 'text-anchor': anchor});
		const d = new Date(start + (i * stepMs));
		label.textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
		root.append(label);
	}

	for (const s of series) {
		const line = svg('polyline', {class: s.className, points: points(s.values, plotW, plotH, max, top), fill: 'none', transform: `translate(${left} 0)`});
		const title = svg('title', {});
		title.textContent = s.label;
		line.append(title);
		root.append(line);
	}

	return root;
}

function niceMax(max: number): number {
	if (max <= 0) {
		return 1;
	}

	const p = 10 ** Math.floor(Math.log10(max));
	const m = max / p;
	return (m <= 1 ? 1 : (m <= 2 ? 2 : (m <= 5 ? 5 : 10))) * p;
}

function formatRate(v: number): string {
	return v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : (v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1));
}

import {type Container} from '../core/docker-select.js';

// The engine's inspect answer, read field by field: the engine, or whatever answers on its socket,
// may send any JSON, and a field of the wrong type must not stop the source.

export type Inspect = {
	Id: string;
	Name?: string;
	Image?: string;
	Config?: {Tty?: boolean; Env?: string[] | null; Labels?: Record<string, string> | null; Image?: string};
	State?: {Running?: boolean; Status?: string; ExitCode?: number; FinishedAt?: string};
};

export function shortId(id: string): string {
	return id.slice(0, 12);
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' ? value : undefined;
}

/**
 * An inspect answer as logmon reads it, every field checked: the engine, or whatever answers on its
 * socket, may send any JSON. Undefined for an answer that is no object.
 */
export function readInspect(value: unknown, id: string): Inspect | undefined {
	if (!isObject(value)) {
		return undefined;
	}

	const config = isObject(value['Config']) ? value['Config'] : {};
	const state = isObject(value['State']) ? value['State'] : {};
	const labels: Record<string, string> = {};
	if (isObject(config['Labels'])) {
		for (const [k, v] of Object.entries(config['Labels'])) {
			if (typeof v === 'string') {
				labels[k] = v;
			}
		}
	}

	return {
		Id: text(value['Id']) ?? id,
		Name: text(value['Name']),
		Image: text(value['Image']),
		Config: {
			Tty: config['Tty'] === true,
			Env: Array.isArray(config['Env']) ? config['Env'].filter((e): e is string => typeof e === 'string') : [],
			Labels: labels,
			Image: text(config['Image']),
		},
		State: {
			Running: state['Running'] === true,
			Status: text(state['Status']),
			ExitCode: typeof state['ExitCode'] === 'number' ? state['ExitCode'] : undefined,
			FinishedAt: text(state['FinishedAt']),
		},
	};
}

export function toContainer(i: Inspect): Container {
	return {
		id: i.Id,
		name: (i.Name ?? '').replace(/^\//, '') || shortId(i.Id),
		image: i.Config?.Image ?? i.Image ?? '',
		labels: i.Config?.Labels ?? {},
		env: i.Config?.Env ?? [],
		tty: i.Config?.Tty === true,
		running: i.State?.Running === true,
	};
}

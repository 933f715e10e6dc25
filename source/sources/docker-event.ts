import {type DockerLine} from '../core/docker-frames.js';
import {type Container, containerService} from '../core/docker-select.js';
import {type EventInit} from '../core/event.js';
import {truncationMarker} from '../core/lines.js';
import {type Origin, eventFromLine, parseTime} from '../core/record.js';
import {sanitize} from '../core/sanitize.js';

// A container's line to an event. The container owns where it came from: service (the compose
// service, else the container's name), host (the engine's host name), proc (stdout or stderr)
// and time (Docker's timestamp). A JSON line gives its level and message like any record,
// kept under `value` in the record beside the container's id, name, image and labels.

/** What every line of one container shares; made once per container. */
export type ContainerMeta = {
	container: {id: string; name: string; image: string; labels: Record<string, string>};
	service: string;
};

export function containerMeta(c: Container): ContainerMeta {
	return {
		container: {id: c.id, name: c.name, image: c.image, labels: c.labels},
		service: sanitize(containerService(c)),
	};
}

export type LineContext = {
	sourceId: string;
	host: string;
	receivedAt: number;
	parseError: (reason: string) => void;
};

export function dockerEvent(line: DockerLine, meta: ContainerMeta, context: LineContext): EventInit {
	const origin: Origin = {
		sourceId: context.sourceId,
		sourceKind: 'docker',
		service: meta.service,
		host: context.host,
		proc: line.stream,
		receivedAt: context.receivedAt,
		parseError: context.parseError,
	};
	const e = eventFromLine(line.text, origin);
	const time = line.stamp === '' ? undefined : parseTime(line.stamp);
	if (time === undefined) {
		context.parseError(`a line of container ${meta.container.name} without a Docker timestamp; the receive time is used`);
	}

	e.time = time ?? context.receivedAt;
	e.service = meta.service;
	e.host = context.host;
	e.proc = line.stream;
	e.record = e.record === undefined
		? {container: meta.container, stream: line.stream, timestamp: line.stamp}
		: {container: meta.container, stream: line.stream, timestamp: line.stamp, value: e.record};
	if (line.truncated > 0) {
		context.parseError(`a line of container ${meta.container.name} longer than the cap, ${line.truncated} bytes cut`);
		const marker = truncationMarker(line.truncated);
		e.message += marker;
		e.raw += marker;
	}

	return e;
}

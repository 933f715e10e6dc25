import {readFileSync} from 'node:fs';
import {type SinkConfig} from '../config/alerts.js';
import {emailMessage} from '../core/alert-payload.js';
import {type Outcome, type Sink, type SinkContext, deliveryFor, plainSink} from './delivery.js';

// `email`: SMTP through nodemailer, loaded only when an email sink is configured.
// STARTTLS is required unless the config says `tls: "tls"` (TLS from the first byte)
// or `"none"`; the password usually comes from ${ENV}. An SMTP 5xx answer (or refused
// credentials) is final; a 4xx answer and connection trouble are tried again.

type MailError = {code?: string; responseCode?: number; response?: string; message?: string};

function outcomeOf(error: unknown): Outcome {
	const e = error as MailError;
	const reason = e.response ? `SMTP ${e.response}` : (e.message ?? String(error));
	if (e.code === 'EAUTH' || (e.responseCode !== undefined && e.responseCode >= 500)) {
		return {ok: false, retry: false, reason};
	}

	return {ok: false, retry: true, reason};
}

export async function emailSink(name: string, config: Extract<SinkConfig, {type: 'email'}>, context: SinkContext): Promise<Sink> {
	const nodemailer = await import('nodemailer');
	let ca: Buffer | undefined;
	if (config.ca) {
		try {
			ca = readFileSync(config.ca);
		} catch (error) {
			throw new Error(`alerts.sinks.${name}.ca: cannot read ${config.ca}: ${(error as Error).message}`);
		}
	}

	const transport = nodemailer.createTransport({
		host: config.host,
		port: config.port,
		secure: config.tls === 'tls',
		requireTLS: config.tls === 'starttls',
		ignoreTLS: config.tls === 'none',
		...(config.user === undefined ? {} : {auth: {user: config.user, pass: config.password ?? ''}}),
		tls: {rejectUnauthorized: config.rejectUnauthorized, ...(ca ? {ca} : {})},
		connectionTimeout: config.timeout,
		greetingTimeout: config.timeout,
		socketTimeout: config.timeout,
	});
	const sink = plainSink(deliveryFor(name, 'email', {
		async send(notices) {
			const {subject, text} = emailMessage(notices);
			try {
				await transport.sendMail({from: config.from, to: config.to, subject, text});
				return {ok: true};
			} catch (error) {
				return outcomeOf(error);
			}
		},
		close() {
			transport.close();
		},
	}, config, context));
	return sink;
}

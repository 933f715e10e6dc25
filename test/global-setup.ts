// Runs once before the suite. The Kafka broker is started here when the Kafka suite lands.
export default async function setup(): Promise<void> {
	// Nothing yet.
}

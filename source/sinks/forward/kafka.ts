import {type KafkaForwardConfig} from '../../config/forward-kafka.js';
import {type Destination, type DestinationContext} from './destination.js';

export async function createDestination(_config: KafkaForwardConfig, context: DestinationContext): Promise<Destination> {
	throw new Error(`forward ${context.name}: the kafka destination is not built yet`);
}

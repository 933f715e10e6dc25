import {memo} from 'react';
import {Box, Text} from 'ink';
import {type PaneView, type View} from './view.js';

// The frame as boxes of known size. Each pane is a title and one Text holding
// its rows, already cut to width: Ink never wraps, and a pane whose text did
// not change is not rendered again by React.

const Pane = memo(function Pane({pane, marginLeft}: {pane: PaneView; marginLeft?: number}) {
	return (
		<Box flexDirection="column" width={pane.width} height={pane.height} overflow="hidden" marginLeft={marginLeft ?? 0} flexShrink={0}>
			<Text wrap="truncate-end">{pane.title}</Text>
			<Text>{pane.lines.join('\n')}</Text>
		</Box>
	);
}, (a, b) => a.pane.key === b.pane.key && a.pane.width === b.pane.width && a.pane.height === b.pane.height && a.marginLeft === b.marginLeft);

function Body({view}: {view: View}) {
	const {layout} = view;
	if (view.overlay) {
		return <Pane pane={view.overlay}/>;
	}

	if (layout.arrangement === 'side') {
		return (
			<Box flexDirection="row" height={layout.bodyHeight}>
				{view.tail ? <Pane pane={view.tail}/> : null}
				<Box flexDirection="column" width={layout.othersWidth} marginLeft={1} flexShrink={0}>
					{view.others.map(p => <Pane key={p.id} pane={p}/>)}
				</Box>
			</Box>
		);
	}

	return (
		<Box flexDirection="column" height={layout.bodyHeight}>
			{view.tail ? <Pane pane={view.tail}/> : null}
			{view.others.length > 0
				? (
					<Box flexDirection="row" height={layout.othersHeight}>
						{view.others.map((p, i) => <Pane key={p.id} pane={p} marginLeft={i === 0 ? 0 : 1}/>)}
					</Box>
				)
				: null}
		</Box>
	);
}

export function Screen({view}: {view: View}) {
	if (view.layout.tooSmall !== undefined) {
		return <Text wrap="truncate-end">{view.layout.tooSmall}</Text>;
	}

	// rows - 1 high: Ink 6.8 clears the whole terminal on every frame once the output is as tall as the screen.
	return (
		<Box flexDirection="column" width={view.layout.width} height={view.layout.height}>
			<Body view={view}/>
			<Text wrap="truncate-end">{view.status}</Text>
			<Text wrap="truncate-end">{view.hint}</Text>
		</Box>
	);
}

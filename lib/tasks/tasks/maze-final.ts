// maze-final: a perfect maze, the agent, four cells lettered A-D and a move list that follows the
// corridors; which lettered cell does the agent end in? The distractor letters sit where a
// careless tracer would land: on cells the walk passes and near its end. One step per straight
// stretch of the walk; the sketch shows the trail so far and the agent.
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Task } from '../types.ts';
import {
  GRID_WORDS, MAZE_WORDS, Maze, breadthFirst, cellName, checkLevel, mazeScene, normaliseChoice, randomWalk,
  runSentence, stepsAlongRuns, walk, type Move,
} from './grid-world.ts';

const LETTERS = ['A', 'B', 'C', 'D'];
/** distractors are drawn first from cells this many moves (along corridors) from the end */
const NEAR_END_DISTANCE = 2;

/** Three distinct cells other than start and end: cells on the walk and close to its end first. */
function pickDistractors(rng: Rng, maze: Maze, positions: readonly number[]): number[] {
  const start = positions[0], end = positions[positions.length - 1];
  const fromEnd = breadthFirst(maze, end, () => true);
  const cellCount = maze.size * maze.size;
  const isCandidate = (cell: number) => cell !== start && cell !== end;
  const near = new Set(positions.filter(isCandidate));
  for (let cell = 0; cell < cellCount; cell++) {
    if (isCandidate(cell) && fromEnd.distance(cell) <= NEAR_END_DISTANCE) near.add(cell);
  }
  const far = Array.from({ length: cellCount }, (_, cell) => cell).filter((cell) => isCandidate(cell) && !near.has(cell));
  return [...rng.shuffle([...near]), ...rng.shuffle(far)].slice(0, LETTERS.length - 1);
}

export interface MazeFinalPuzzle {
  readonly maze: Maze;
  readonly start: number;
  readonly moves: readonly Move[];
  /** the agent's cell after each move; positions[0] is the start */
  readonly positions: readonly number[];
  /** lettered cell -> upper-case letter; exactly one of them is the end of the walk */
  readonly labels: ReadonlyMap<number, string>;
}

/** The world behind an example (no pictures, no text): tests check it directly. */
export function mazeFinalPuzzle(seed: number, level: number): MazeFinalPuzzle {
  checkLevel('maze-final', level, 3);
  const rng = new Rng(seed, level);
  const maze = Maze.generate(rng, level);
  const start = rng.int(0, level * level - 1);
  const moves = randomWalk(rng, maze, start, rng.int(level, 2 * level), () => true);
  let positions = walk(maze, start, moves).positions;
  // the walk turns back only at dead ends, so it rarely comes home; when it does, step on
  if (positions[positions.length - 1] === start) {
    moves.push(rng.pick(maze.openMoves(start)));
    positions = walk(maze, start, moves).positions;
  }
  const end = positions[positions.length - 1];
  const labelled = rng.shuffle([end, ...pickDistractors(rng, maze, positions)]);
  const labels = new Map(labelled.map((cell, index) => [cell, LETTERS[index]] as const));
  return { maze, start, moves, positions, labels };
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const { maze, start, moves, positions, labels } = mazeFinalPuzzle(seed, level);
  const answer = labels.get(positions[positions.length - 1])!.toLowerCase();
  const scene = mazeScene(maze, options.size ?? 64, { labels });

  const { steps, stepDescriptions } = stepsAlongRuns(moves, positions, scene.render, (run, soFar, isLast) => {
    const at = soFar[soFar.length - 1];
    const letter = labels.get(at)?.toLowerCase();
    let text = runSentence(run, run.length);
    if (letter) text += ` and ${isLast ? 'ends' : 'stops'} on cell ${letter}`;
    else if (maze.openMoves(at).length === 1) text += ' into a dead end';
    return {
      text: `${text} .`,
      caption: scene.caption(soFar),
      description: `the agent is at ${cellName(level, at)}${letter ? ` , on cell ${letter}` : ''} .`,
    };
  });

  return {
    taskId: 'maze-final',
    seed,
    level,
    question: `the red dot is the agent in a maze . it moves : ${moves.join(' ')} . which lettered cell is it in at the end ? answer a , b , c or d .`,
    image: scene.render([start]),
    caption: scene.caption([start]),
    steps,
    answer,
    verify: (answerText) => normaliseChoice(answerText) === answer,
    stepDescriptions,
  };
}

export const mazeFinal: Task = {
  id: 'maze-final',
  description: 'perfect maze with an agent and four lettered cells: after a move list, which lettered cell is the agent in?',
  levels: { train: [4, 5, 6], ood: [8] },
  generate,
  vocabulary: () => [...GRID_WORDS, ...MAZE_WORDS, 'answer', 'b', 'c', 'd', 'dead', 'end', 'ends', 'labels', 'lettered', 'stops', 'which'],
};

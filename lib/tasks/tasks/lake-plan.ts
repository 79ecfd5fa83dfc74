// lake-plan: a FrozenLake grid (ice, dark holes, a green goal) with the agent; give moves that reach
// the goal without stepping into a hole. Every lake has a safe route (the generator redraws until
// it does); plans are scored by simulation under the FrozenLake rules, so any safe route counts.
// The gold plan is a shortest one; one step per straight stretch, the sketch shows the route so far.
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Task } from '../types.ts';
import {
  GRID_WORDS, LAKE_WORDS, Lake, checkLevel, lakeScene, lakeStateSentence, parseMoves, planReachesGoal,
  runSentence, stepsAlongRuns, walk,
} from './grid-world.ts';

/** The lake behind an example (no pictures, no text): tests check it directly. */
export function lakePlanPuzzle(seed: number, level: number): Lake {
  checkLevel('lake-plan', level, 3);
  return Lake.generate(new Rng(seed, level), level);
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const lake = lakePlanPuzzle(seed, level);
  const plan = lake.safeRouteToGoal(lake.start)!;
  const { positions } = walk(lake, lake.start, plan);
  const scene = lakeScene(lake, options.size ?? 64);

  const { steps, stepDescriptions } = stepsAlongRuns(plan, positions, scene.render, (run, soFar, isLast) => ({
    text: `${runSentence(run, run.length)}${isLast ? ' and reaches the goal' : ''} .`,
    caption: scene.caption(soFar),
    description: lakeStateSentence(lake, soFar[soFar.length - 1]),
  }));

  return {
    taskId: 'lake-plan',
    seed,
    level,
    question: 'the red dot is on a frozen lake : dark cells are holes and the green cell is the goal . give moves that take it to the goal without stepping into a hole , each move up , down , left or right . a move off the edge leaves it in place .',
    image: scene.render([lake.start]),
    caption: scene.caption([lake.start]),
    steps,
    answer: plan.join(' '),
    verify: (answerText) => {
      const moves = parseMoves(answerText);
      return moves !== null && planReachesGoal(lake, lake.start, lake.goal, moves, (cell) => lake.isHole(cell));
    },
    stepDescriptions,
  };
}

export const lakePlan: Task = {
  id: 'lake-plan',
  description: 'FrozenLake grid: give moves that reach the goal without stepping into a hole (scored by simulation)',
  levels: { train: [3, 4, 5], ood: [7] },
  generate,
  vocabulary: () => [...GRID_WORDS, ...LAKE_WORDS, 'stepping'],
};

// Types of sentiment-trees.mjs (the corpus grammar shared by the training script and the page).
export declare function labelOf(score: number): number;
export declare function randomSentence(random: () => number): string;
export declare const EXAMPLES: readonly string[];

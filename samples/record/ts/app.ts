// TypeScript app, run through tsx: `viz record samples/record/ts/app.ts`.
import { Matrix } from './matrix.ts';

interface Report {
  label: string;
  trace: number;
}

function buildReport(size: number): Report {
  const m: Matrix = Matrix.identity(size).scale(3);
  const product: Matrix = m.multiply(m);
  return { label: `identity(${size}) * 3, squared`, trace: product.trace() };
}

const report: Report = buildReport(3);
console.log(`${report.label}: trace = ${report.trace}`);

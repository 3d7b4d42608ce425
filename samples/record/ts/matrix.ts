export class Matrix {
  constructor(private readonly rows: number[][]) {}

  static identity(n: number): Matrix {
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)));
    return new Matrix(rows);
  }

  scale(k: number): Matrix {
    return new Matrix(this.rows.map((row: number[]) => row.map((v: number) => v * k)));
  }

  multiply(other: Matrix): Matrix {
    const n: number = this.rows.length;
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      out.push([]);
      for (let j = 0; j < n; j++) out[i]!.push(this.dot(other, i, j));
    }
    return new Matrix(out);
  }

  private dot(other: Matrix, i: number, j: number): number {
    let sum = 0;
    for (let k = 0; k < this.rows.length; k++) sum += this.rows[i]![k]! * other.rows[k]![j]!;
    return sum;
  }

  trace(): number {
    return this.rows.reduce((acc: number, row: number[], i: number) => acc + row[i]!, 0);
  }
}

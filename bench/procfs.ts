import { readdirSync, readFileSync } from 'node:fs';

/** Memory of a set of processes, in bytes. */
export interface MemoryUse {
  /** Sum of VmRSS: pages shared between the processes count once per process. */
  rss: number;
  /** Sum of Pss (proportional set size): shared pages split between their users, so sums are fair. */
  pss: number;
  processes: number;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined; // exited while we looked
  }
}

/** `root` and all its descendants that are alive now (sshd forks two per connection; cluster forks workers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function kiloBytesField(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** VmRSS and Pss summed over the process tree under `root`. */
export function treeMemory(root: number): MemoryUse {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    try {
      rss += kiloBytesField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      pss += kiloBytesField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
      processes++;
    } catch {
      // exited between listing and reading
    }
  }
  return { rss, pss, processes };
}

/** Samples treeMemory every `intervalMs` until stopped; resolves with the peaks seen. */
export function samplePeakMemory(root: number, intervalMs = 20): { stop(): MemoryUse } {
  const peak: MemoryUse = { rss: 0, pss: 0, processes: 0 };
  const sample = () => {
    const now = treeMemory(root);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.pss = Math.max(peak.pss, now.pss);
    peak.processes = Math.max(peak.processes, now.processes);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/**
 * CPU time, in seconds over all CPUs, that the hypervisor has given to other
 * guests since boot (the steal column of /proc/stat); 0 where the kernel does
 * not count it. On a shared virtual machine, a round that loses seconds to
 * steal takes longer whichever server it measures: the bench reports how much
 * each server's rounds lost, so that a ratio can be read against it.
 */
export function stolenCpuSeconds(): number {
  const cpu = /^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  const steal = Number(cpu?.[1]?.split(/\s+/)[7] ?? 0);
  return steal / 100; // USER_HZ: 100 ticks a second on Linux
}

// One page of a listing, shared by the ports that list.

export interface Page<T> {
  items: T[];
  /** Absent on the last page. Opaque: only the store that gave it out can read it. */
  nextToken?: string;
}

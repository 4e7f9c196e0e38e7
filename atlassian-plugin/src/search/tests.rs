//! The scan against directories that answer as a server legally may, or as a broken one does.

use std::sync::Mutex;

use super::*;

/// A directory of ids whose answers a test shapes: the page size it really serves (per read),
/// the total it claims, whether it honours `startIndex`, and what changes after each read.
struct Directory {
    live: Vec<String>,
    reads: usize,
    /// The most objects a page holds on the n-th read.
    cap: fn(usize) -> usize,
    /// The total claimed, from the real one.
    total: fn(u64) -> u64,
    ignores_start: bool,
    /// Runs after every read.
    churn: fn(&mut Vec<String>, usize),
}

impl Directory {
    fn new(size: usize) -> Self {
        Directory {
            live: (0..size).map(|i| format!("u{i:05}")).collect(),
            reads: 0,
            cap: |_| usize::MAX,
            total: |t| t,
            ignores_start: false,
            churn: |_, _| {},
        }
    }

    fn reader(self) -> PageReader<String> {
        let dir = Arc::new(Mutex::new(self));
        Arc::new(move |start, count| {
            let mut d = dir.lock().unwrap();
            let cap = (d.cap)(d.reads);
            let from = if d.ignores_start {
                0
            } else {
                start as usize - 1
            };
            let from = from.min(d.live.len());
            let to = (from + (count as usize).min(cap)).min(d.live.len());
            let items = d.live[from..to].to_vec();
            let total = (d.total)(d.live.len() as u64);
            let reads = d.reads;
            (d.churn)(&mut d.live, reads);
            d.reads += 1;
            Box::pin(async move {
                Ok(Page {
                    items,
                    total: Some(total),
                    start_index: None,
                    is_last: None,
                })
            })
        })
    }
}

#[derive(Default)]
struct Got {
    total: Option<u64>,
    items: Vec<String>,
}

impl Receiver<String> for Got {
    fn total(&mut self, total: u64) {
        self.total.get_or_insert(total);
    }
    fn push(&mut self, items: Vec<String>) -> ControlFlow<()> {
        self.items.extend(items);
        ControlFlow::Continue(())
    }
}

async fn scan(dir: Directory, count: u32, concurrency: usize) -> (Result<Scanned>, Got) {
    let mut got = Got::default();
    let result = Scan {
        reader: dir.reader(),
        count,
        concurrency,
        what: "test listing".into(),
    }
    .run(&mut got)
    .await;
    (result, got)
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("u{i:05}")).collect()
}

#[tokio::test]
async fn short_later_pages_are_followed_from_where_they_really_ended() {
    for concurrency in [1, 4] {
        let mut dir = Directory::new(250);
        dir.cap = |read| if read == 0 { 100 } else { 10 };
        let (result, got) = scan(dir, 100, concurrency).await;
        let scanned = result.unwrap();
        assert_eq!((scanned.read, scanned.complete), (250, true));
        assert_eq!(got.items, ids(0..250), "concurrency {concurrency}");
        assert_eq!(got.total, Some(250));
    }
}

#[tokio::test]
async fn a_server_that_ignores_start_index_is_an_error_not_a_short_read() {
    let mut dir = Directory::new(250);
    dir.ignores_start = true;
    let (result, got) = scan(dir, 100, 4).await;
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionFailed);
    assert!(
        err.retryable && err.message.contains("ignore startIndex"),
        "{err}"
    );
    assert!(err.message.contains("100 read"), "{err}");
    assert_eq!(got.items.len(), 100);
}

#[tokio::test]
async fn totals_below_what_arrived_are_errors() {
    for claim in [|_| 0, |_| 50] {
        let mut dir = Directory::new(250);
        dir.total = claim;
        let err = scan(dir, 100, 2).await.0.unwrap_err();
        assert!(err.message.contains("past the total"), "{err}");
    }
}

#[tokio::test]
async fn huge_totals_are_refused_before_anything_is_sized_by_them() {
    for claim in [|_| u64::MAX, |_| 1_000_000_000_000_000_000] {
        let mut dir = Directory::new(250);
        dir.total = claim;
        let err = scan(dir, 100, 8).await.0.unwrap_err();
        assert!(err.message.contains("more than the"), "{err}");
    }
}

#[tokio::test]
async fn empty_pages_before_the_total_end_in_an_error_after_a_few() {
    let mut dir = Directory::new(250);
    dir.total = |t| t + 1_000;
    let (result, got) = scan(dir, 100, 4).await;
    let err = result.unwrap_err();
    assert!(err.message.contains("brought no new object"), "{err}");
    assert_eq!(
        got.items,
        ids(0..250),
        "everything that exists was delivered first"
    );
}

#[tokio::test]
async fn oversized_pages_are_errors() {
    let reader: PageReader<String> = Arc::new(|_, count| {
        let items = (0..count + 1).map(|i| format!("x{i}")).collect();
        Box::pin(async move {
            Ok(Page {
                items,
                total: Some(1_000),
                start_index: None,
                is_last: None,
            })
        })
    });
    let mut got = Got::default();
    let err = Scan {
        reader,
        count: 10,
        concurrency: 1,
        what: "t".into(),
    }
    .run(&mut got)
    .await
    .unwrap_err();
    assert!(
        err.message.contains("11 objects, 10 were asked for"),
        "{err}"
    );
}

#[tokio::test]
async fn inserts_ahead_of_the_cursor_never_hide_existing_objects() {
    // 50 new objects before everything read so far after every read: all 250 originals come.
    let mut dir = Directory::new(250);
    dir.churn = |live, read| {
        for i in 0..50 {
            live.insert(0, format!("new{read:03}-{i:02}"));
        }
    };
    let (result, got) = scan(dir, 100, 1).await;
    result.unwrap();
    let originals: Vec<&String> = got.items.iter().filter(|i| i.starts_with('u')).collect();
    assert_eq!(originals.len(), 250, "every existing object, once");
}

#[tokio::test]
async fn deletions_beyond_the_overlap_are_bridged_without_a_gap() {
    // Pages of 10 overlap by 1; 3 deletions after every read shift each page past 2 objects.
    let mut dir = Directory::new(200);
    dir.churn = |live, read| {
        if read < 20 {
            live.drain(..3);
        }
    };
    let (result, got) = scan(dir, 10, 1).await;
    result.unwrap();
    let deleted: HashSet<String> = ids(0..60).into_iter().collect();
    let survivors: Vec<String> = ids(0..200)
        .into_iter()
        .filter(|i| !deleted.contains(i))
        .collect();
    let got_set: HashSet<&String> = got.items.iter().collect();
    let missing: Vec<&String> = survivors.iter().filter(|i| !got_set.contains(i)).collect();
    assert!(
        missing.is_empty(),
        "lived through the read, not returned: {missing:?}"
    );
    let mut sorted = got.items.clone();
    sorted.sort();
    assert_eq!(got.items, sorted, "in listing order, each once");
}

#[tokio::test]
async fn a_listing_that_outruns_every_read_back_is_an_error_not_a_gap() {
    let mut dir = Directory::new(2_000);
    dir.churn = |live, _| {
        let n = live.len().min(40);
        live.drain(..n);
    };
    let err = scan(dir, 10, 1).await.0.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionFailed, "{err}");
    assert!(
        err.retryable && err.message.contains("run it again"),
        "{err}"
    );
}

#[tokio::test]
async fn a_last_page_flag_against_the_total_is_an_error() {
    let reader: PageReader<String> = Arc::new(|start, _| {
        Box::pin(async move {
            Ok(Page {
                items: vec![format!("m{start}")],
                total: Some(5),
                start_index: Some(start),
                is_last: Some(true),
            })
        })
    });
    let mut got = Got::default();
    let err = Scan {
        reader,
        count: 1,
        concurrency: 1,
        what: "t".into(),
    }
    .run(&mut got)
    .await
    .unwrap_err();
    assert!(err.message.contains("says it is the last"), "{err}");
}

/// Pages fetched ahead are answered in any order: here a later page before an earlier one, with
/// objects inserted behind both in between, so that the earlier page, shifted, no longer
/// reaches the later one. Objects between them were in neither page as answered.
fn out_of_order_reader(inserted_per_read: usize) -> PageReader<String> {
    let live = Arc::new(Mutex::new(ids(0..400)));
    Arc::new(move |start, count| {
        let live = Arc::clone(&live);
        Box::pin(async move {
            // The earlier the page, the later it is answered.
            tokio::time::sleep(std::time::Duration::from_millis(
                1_000u64.saturating_sub(start),
            ))
            .await;
            let mut live = live.lock().unwrap();
            let from = (start as usize - 1).min(live.len());
            let to = (from + count as usize).min(live.len());
            let items = live[from..to].to_vec();
            let total = live.len() as u64;
            // Anywhere, as Jira lists members in the order of their random account ids.
            for i in 0..inserted_per_read {
                let at = (start as usize * 7919 + i * 104_729) % (live.len() + 1);
                live.insert(at, format!("new{start:04}-{i}"));
            }
            Ok(Page {
                items,
                total: Some(total),
                start_index: None,
                is_last: None,
            })
        })
    })
}

#[tokio::test(start_paused = true)]
async fn pages_answered_out_of_order_around_inserts_never_hide_existing_objects() {
    for inserted in [0, 1, 2, 3, 5, 8, 13, 30] {
        let mut got = Got::default();
        let scan = Scan {
            reader: out_of_order_reader(inserted),
            count: 50,
            concurrency: 4,
            what: "test listing".into(),
        };
        match scan.run(&mut got).await {
            Ok(_) => {
                let got: HashSet<&String> = got.items.iter().collect();
                let missing: Vec<String> = ids(0..400)
                    .into_iter()
                    .filter(|i| !got.contains(i))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "{inserted} per read: complete, yet missing {missing:?}"
                );
            }
            // A listing that grows faster than it is read may be refused, typed.
            Err(e) if inserted > 3 => assert_eq!(e.kind, ErrorKind::ConnectionFailed, "{e}"),
            Err(e) => panic!("{inserted} per read: a little churn is bridged, not failed: {e}"),
        }
    }
}

/// A receiver that needs something before its first objects (as the product-access join needs
/// the index): it opens when `open` is sent.
struct Gated {
    got: Got,
    open: Option<tokio::sync::oneshot::Receiver<Result<()>>>,
}

impl Receiver<String> for Gated {
    fn total(&mut self, total: u64) {
        self.got.total(total);
    }
    fn push(&mut self, items: Vec<String>) -> ControlFlow<()> {
        assert!(self.open.is_none(), "pushed before the wait was asked for");
        self.got.push(items)
    }
    fn wait_before_first(&mut self) -> Option<BoxFuture<'static, Result<()>>> {
        let open = self.open.take().expect("asked once");
        Some(Box::pin(async move {
            open.await
                .unwrap_or_else(|_| Err(ConnectorError::internal("never opened")))
        }))
    }
}

/// A reader of `size` ids that counts the pages asked for.
fn counting_reader(size: usize, asked: Arc<Mutex<Vec<u64>>>) -> PageReader<String> {
    let live = ids(0..size);
    Arc::new(move |start, count| {
        asked.lock().unwrap().push(start);
        let from = (start as usize - 1).min(live.len());
        let to = (from + count as usize).min(live.len());
        let items = live[from..to].to_vec();
        let total = live.len() as u64;
        Box::pin(async move {
            Ok(Page {
                items,
                total: Some(total),
                start_index: None,
                is_last: None,
            })
        })
    })
}

#[tokio::test]
async fn pages_are_fetched_ahead_while_the_receiver_waits_and_delivered_after() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (open, opened) = tokio::sync::oneshot::channel();
    let mut gated = Gated {
        got: Got::default(),
        open: Some(opened),
    };
    let scan = Scan {
        reader: counting_reader(1_000, asked.clone()),
        count: 10,
        concurrency: 4,
        what: "test listing".into(),
    };
    let scanned = {
        let run = scan.run(&mut gated);
        tokio::pin!(run);
        // Until the receiver opens, the scan keeps its window of pages in flight and delivers
        // nothing.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(200), &mut run).await;
        assert!(
            waiting.is_err(),
            "the scan ended before the receiver opened"
        );
        let ahead = asked.lock().unwrap().len();
        assert_eq!(ahead, 1 + 4, "the first page, then a window of 4");
        open.send(Ok(())).unwrap();
        run.await.unwrap()
    };
    assert!(scanned.complete);
    assert_eq!(gated.got.items, ids(0..1_000), "everything, in order, once");
}

#[tokio::test]
async fn a_wait_that_fails_fails_the_scan_with_its_error_and_delivers_nothing() {
    let (open, opened) = tokio::sync::oneshot::channel();
    let mut gated = Gated {
        got: Got::default(),
        open: Some(opened),
    };
    open.send(Err(ConnectorError::new(
        ErrorKind::ConnectionFailed,
        "the index could not be read",
    )))
    .unwrap();
    let err = Scan {
        reader: counting_reader(100, Arc::default()),
        count: 10,
        concurrency: 2,
        what: "test listing".into(),
    }
    .run(&mut gated)
    .await
    .unwrap_err();
    assert!(err.message.contains("the index could not be read"), "{err}");
    assert!(gated.got.items.is_empty());
}

//! A one-shot result handed from the store's commit thread to whoever waits for it: an async task (it is a
//! `Future`, woken by the sender, with no runtime of its own) or a thread (`wait`).

use ossd_errors::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<Result<T>>,
    waker: Option<Waker>,
}

struct Shared<T> {
    slot: Mutex<Slot<T>>,
    cv: Condvar,
}

/// The receiving end: resolves to what the `Sender` sent, or to an internal error if it was dropped unsent.
pub struct Waiting<T>(Arc<Shared<T>>);

/// The sending end. Dropping it unsent sends an internal error, so that no waiter waits forever.
pub struct Sender<T>(Option<Arc<Shared<T>>>);

pub fn channel<T>() -> (Sender<T>, Waiting<T>) {
    let shared = Arc::new(Shared { slot: Mutex::new(Slot { value: None, waker: None }), cv: Condvar::new() });
    (Sender(Some(shared.clone())), Waiting(shared))
}

impl<T> Sender<T> {
    pub fn send(mut self, v: Result<T>) {
        self.deliver(v);
    }

    fn deliver(&mut self, v: Result<T>) {
        let Some(shared) = self.0.take() else { return };
        let waker = {
            let mut s = shared.slot.lock().unwrap_or_else(|e| e.into_inner());
            s.value = Some(v);
            s.waker.take()
        };
        shared.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.deliver(Err(Error::internal("a queued metadata write was dropped before it ran")));
    }
}

impl<T> Waiting<T> {
    /// Blocks the calling thread until the result arrives.
    pub fn wait(self) -> Result<T> {
        let mut s = self.0.slot.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(v) = s.value.take() {
                return v;
            }
            s = self.0.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl<T> Future for Waiting<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let mut s = self.0.slot.lock().unwrap_or_else(|e| e.into_inner());
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ossd_errors::Code;

    #[test]
    fn a_result_reaches_a_waiting_thread_and_a_dropped_sender_gives_an_error() {
        let (tx, rx) = channel::<u32>();
        let t = std::thread::spawn(move || rx.wait());
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(Ok(7));
        assert_eq!(t.join().unwrap().unwrap(), 7);
        let (tx, rx) = channel::<u32>();
        drop(tx);
        assert_eq!(rx.wait().unwrap_err().code, Code::InternalError);
    }

    #[test]
    fn a_result_wakes_a_polling_task() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = channel::<&str>();
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        tx.send(Ok("done"));
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst), "woken");
        match Pin::new(&mut rx).poll(&mut cx) {
            Poll::Ready(Ok(v)) => assert_eq!(v, "done"),
            _ => panic!("not ready after the send"),
        }
    }
}

//! Registered jobs. `#[barks::job]` puts a [`JobDef`] into [`JOBS`] at link
//! time; any binary that links the defining crate can run the job by id.

use crate::data::JobArg;
use crate::error::{Error, Result};
use crate::ops::action::{JobOutput, Output};
use crate::plan::Plan;
use crate::plan::scope;
use std::marker::PhantomData;

/// A job as the registry knows it.
pub struct JobDef {
    /// The function's name, for messages.
    pub name: &'static str,
    /// The stable id: module path, name and a fingerprint of the job's tokens.
    pub id: &'static str,
    /// Rebuilds the job's plan from its encoded arguments and the default
    /// partition count.
    pub build: fn(args: &[u8], default_parallelism: usize) -> Result<Plan>,
}

/// Every job linked into this binary.
#[linkme::distributed_slice]
pub static JOBS: [JobDef];

/// The job registered under `id`.
pub fn find_job(id: &str) -> Result<&'static JobDef> {
    JOBS.iter()
        .find(|j| j.id == id)
        .ok_or_else(|| Error::UnknownJob { id: id.to_string() })
}

/// Encodes a job's arguments one by one (the bytes equal the postcard
/// encoding of the tuple of arguments).
pub struct ArgEncoder {
    job: &'static str,
    bytes: Result<Vec<u8>>,
}

impl ArgEncoder {
    pub fn new(job: &'static str) -> Self {
        ArgEncoder {
            job,
            bytes: Ok(Vec::new()),
        }
    }

    /// Appends one argument.
    pub fn arg<A: JobArg>(&mut self, value: &A) {
        if let Ok(bytes) = &mut self.bytes {
            let job = self.job;
            match postcard::to_extend(value, std::mem::take(bytes)) {
                Ok(b) => *bytes = b,
                Err(e) => {
                    self.bytes = Err(Error::Args {
                        job: job.to_string(),
                        message: e.to_string(),
                    })
                }
            }
        }
    }

    /// The call of `def` with the encoded arguments.
    pub fn into_job<R: 'static>(self, def: &'static JobDef) -> Job<R> {
        Job {
            def,
            args: self.bytes,
            _r: PhantomData,
        }
    }
}

/// Decodes a job's arguments in order.
pub struct ArgDecoder<'a> {
    job: &'static str,
    rest: &'a [u8],
}

impl<'a> ArgDecoder<'a> {
    pub fn new(job: &'static str, bytes: &'a [u8]) -> Self {
        ArgDecoder { job, rest: bytes }
    }

    /// The next argument.
    pub fn arg<A: JobArg>(&mut self) -> Result<A> {
        let (value, rest) = postcard::take_from_bytes::<A>(self.rest).map_err(|e| Error::Args {
            job: self.job.to_string(),
            message: e.to_string(),
        })?;
        self.rest = rest;
        Ok(value)
    }

    /// Fails if bytes are left over (the arguments came from other code).
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Args {
                job: self.job.to_string(),
                message: format!("{} unexpected trailing bytes", self.rest.len()),
            })
        }
    }
}

/// Checks that the pipeline's output is what the job declares (see [`JobOutput`]).
pub fn check_output<R, O: JobOutput<R>>(output: O) -> O {
    output
}

/// Builds a plan: runs `pipeline` (the job's body) in a fresh build scope.
/// Fails with the first error a source recorded with
/// [`scope::fail`](crate::plan::scope::fail) while it ran.
pub fn build_plan<R, O: JobOutput<R>>(
    def: &JobDef,
    args: &[u8],
    default_parallelism: usize,
    pipeline: impl FnOnce(&[u8]) -> Result<O>,
) -> Result<Plan> {
    scope::try_in_scope(default_parallelism, || {
        let output: Output<R> = pipeline(args)?.into_output();
        Ok(Plan::new(
            output.action,
            def.id.to_string(),
            args.to_vec(),
            default_parallelism,
        ))
    })
}

/// A call of a job with its arguments, ready to run.
pub struct Job<R> {
    def: &'static JobDef,
    args: Result<Vec<u8>>,
    _r: PhantomData<fn() -> R>,
}

impl<R: 'static> Job<R> {
    /// The job's registered id.
    pub fn id(&self) -> &'static str {
        self.def.id
    }

    /// Builds the job's plan for `default_parallelism` partitions.
    pub fn plan(&self, default_parallelism: usize) -> Result<Plan> {
        let args = self.args.as_ref().map_err(Clone::clone)?;
        (self.def.build)(args, default_parallelism)
    }
}

/// How a job encodes (on the driver) and decodes (on workers) one argument
/// type. `#[barks::job]` builds these once per job, in a `const`, so a type
/// that is not a [`JobArg`] is reported once, at the argument's type.
#[doc(hidden)]
pub struct ArgCodec<A> {
    pub encode: fn(&mut ArgEncoder, &A),
    pub decode: fn(&mut ArgDecoder<'_>) -> Result<A>,
}

/// The codec of `A`; requires `A: JobArg`.
#[doc(hidden)]
pub const fn arg_codec<A: JobArg>() -> ArgCodec<A> {
    fn encode<A: JobArg>(args: &mut ArgEncoder, value: &A) {
        args.arg(value)
    }
    fn decode<A: JobArg>(args: &mut ArgDecoder<'_>) -> Result<A> {
        args.arg()
    }
    ArgCodec {
        encode: encode::<A>,
        decode: decode::<A>,
    }
}

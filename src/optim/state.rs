//! `OptimizerState`: what a checkpoint saves of an optimizer.

use crate::named::{Setting, SettingMut};
use crate::params::Params;

/// One part of an optimizer's state, read-only.
#[derive(Debug)]
pub enum StateRef<'a, M> {
    /// A number: the learning rate (schedules change it), a step count, NAdam's `μ` product.
    Setting(Setting),
    /// A buffer of the model's type (a moment, a momentum buffer).
    Buffer(&'a M),
}

/// One part of an optimizer's state, writable.
#[derive(Debug)]
pub enum StateMut<'a, M> {
    /// A number.
    Setting(SettingMut<'a>),
    /// A buffer of the model's type.
    Buffer(&'a mut M),
}

/// The state of an optimizer that a [`Checkpoint`](crate::io::Checkpoint) saves and restores
/// so that a resumed run continues bit for bit: the current learning rate, step counts and
/// every buffer, each under a name. Hyperparameters other than the learning rate come from
/// the code that builds the optimizer. Every optimizer of the crate implements it.
///
/// ```
/// use constnet::optim::{Adam, AdamConfig, OptimizerState, StateRef};
/// use constnet::Dense;
/// let adam = Adam::<Dense<2, 1>>::new(AdamConfig::new());
/// let mut names = Vec::new();
/// adam.visit_state(&mut |name, _| names.push(name));
/// assert_eq!(names, ["lr", "steps", "exp_avg", "exp_avg_sq"]);
/// ```
pub trait OptimizerState<M: Params> {
    /// Calls `f` with each named part of the state, in a fixed order.
    fn visit_state(&self, f: &mut dyn FnMut(&'static str, StateRef<'_, M>));
    /// The same walk, writable.
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&'static str, StateMut<'_, M>));
}

/// Implements [`OptimizerState`] from a list of `"name" => field` for the learning rate,
/// counters, reals and buffers.
macro_rules! optimizer_state {
    (
        impl[$($generics:tt)*] for $ty:ty where [$($bounds:tt)*] {
            $(real $rname:literal => $($real:ident).+;)*
            $(count $cname:literal => $($count:ident).+;)*
            $(buffer $bname:literal => $($buffer:ident).+;)*
        }
    ) => {
        impl<$($generics)*> $crate::optim::OptimizerState<M> for $ty where $($bounds)* {
            fn visit_state(
                &self,
                f: &mut dyn FnMut(&'static str, $crate::optim::StateRef<'_, M>),
            ) {
                use $crate::optim::StateRef;
                use $crate::Setting;
                $(f($rname, StateRef::Setting(Setting::Real(self.$($real).+)));)*
                $(f($cname, StateRef::Setting(Setting::Count(self.$($count).+)));)*
                $(f($bname, StateRef::Buffer(&self.$($buffer).+));)*
            }
            fn visit_state_mut(
                &mut self,
                f: &mut dyn FnMut(&'static str, $crate::optim::StateMut<'_, M>),
            ) {
                use $crate::optim::StateMut;
                use $crate::SettingMut;
                $(f($rname, StateMut::Setting(SettingMut::Real(&mut self.$($real).+)));)*
                $(f($cname, StateMut::Setting(SettingMut::Count(&mut self.$($count).+)));)*
                $(f($bname, StateMut::Buffer(&mut self.$($buffer).+));)*
            }
        }
    };
}
pub(crate) use optimizer_state;
